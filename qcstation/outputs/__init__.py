"""Outputs of the station: MQTT and Prometheus metrics."""
