"""The built-in controllers that a real cluster's kube-controller-manager and scheduler run."""
