"""Token.io's stored records: one module per resource, each a frozen dataclass (`mockbank.records.Record`)."""  # noqa: E501
