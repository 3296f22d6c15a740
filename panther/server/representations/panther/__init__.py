"""The JSON of /panther/v1, one module per resource."""
