"""The web view: JSON API and server-rendered pages over the station and the store."""
