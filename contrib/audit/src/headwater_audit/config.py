"""The audit plugin's settings (environment variable names); imports nothing heavy."""

LOG_ENV = "HEADWATER_AUDIT_LOG"
KEY_ENV = "HEADWATER_AUDIT_KEY"
MAX_BYTES_ENV = "HEADWATER_AUDIT_MAX_BYTES"
