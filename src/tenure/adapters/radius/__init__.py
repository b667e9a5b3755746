"""RADIUS on the wire (pyrad): Disconnect-Requests to a NAS, and the dictionary they are encoded with."""
