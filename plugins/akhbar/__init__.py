"""Akhbar: Arabic news ingestion pipeline."""
