"""The booking engine: plain functions over models (no Flask, no Dramatiq)."""
