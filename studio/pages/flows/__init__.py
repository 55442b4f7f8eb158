"""The flows page: the deployed flows of the selected namespace, searchable, with their YAML."""
