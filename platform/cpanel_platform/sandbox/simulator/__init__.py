"""The simulated actors of a production LKE platform: kubelets, the cloud controller manager,
storage provisioning and the baseline components. They reach the Kubernetes API over HTTP,
as real controllers do, so they would run against a real API server too."""
