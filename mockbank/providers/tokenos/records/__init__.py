"""Token.io's stored records: one module per resource, each record a frozen dataclass with to_value/from_value."""  # noqa: E501
