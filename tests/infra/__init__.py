"""Infrastructure tests: synthesize once, assert the properties HIPAA relies on."""
