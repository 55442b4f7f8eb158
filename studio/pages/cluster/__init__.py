"""The Cluster page: the installation's processes and health, for administrators."""
