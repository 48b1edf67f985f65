"""Hardening: state that never collides, never revives, never breaks; bounded memory."""
