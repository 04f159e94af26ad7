"""Fakes shared by the test suites: real servers and objects that stand in for remote services."""
