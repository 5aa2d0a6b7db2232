"""Engine Control: engine identities, permissions, platform status, feature flags, checks."""
