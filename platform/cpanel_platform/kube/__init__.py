"""Kubernetes: kubeconfig wiring, watch caches of plain JSON objects, and actions."""
