export const API_GATEWAY = "gateway.networking.k8s.io/v1";
export const API_MESHGATE = "meshgate.dev/v1alpha1";
