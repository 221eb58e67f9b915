"""UI support shared by the pages: state/URL round trip, widgets, cached runs, charts."""
