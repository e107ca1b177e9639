"""Client-side tracking: the service layer, the Client and the fluent API."""
