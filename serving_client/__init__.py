"""Client for the twinnorm models on TF Serving: REST and gRPC requests built from CSV rows."""
