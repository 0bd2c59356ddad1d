"""Reports: the period a report covers and the report itself (`loa report`)."""
