"""The station: settings, frame sources, triggers, the runner and lot sampling."""
