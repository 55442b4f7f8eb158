"""The executions list: filters, sorting, pages, live running rows and bulk actions."""
