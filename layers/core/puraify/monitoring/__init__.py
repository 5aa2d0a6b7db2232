"""Monitoring & Logs: events from every engine, error groups, alerts, the audit trail."""
