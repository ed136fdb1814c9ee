# GKE cluster with a CPU pool for add-ons and an H100 pool. GKE installs the NVIDIA driver (gpu_driver_version) and
# its own device plugin, and taints GPU nodes nvidia.com/gpu=present:NoSchedule by itself, the taint the gpu-prod
# overlay tolerates; the herd.io/pool=gpu label below matches its nodeSelector.

resource "google_service_account" "nodes" {
  project      = var.project_id
  account_id   = "${var.cluster_name}-nodes"
  display_name = "Nodes of GKE cluster ${var.cluster_name}"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/artifactregistry.reader",
  ])
  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.nodes.email}"
}

resource "google_container_cluster" "this" {
  project                  = var.project_id
  name                     = var.cluster_name
  location                 = var.region
  network                  = var.network
  subnetwork               = var.subnetwork
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = var.deletion_protection

  release_channel {
    channel = "REGULAR"
  }

  # Workload Identity: pods read weights from GCS as a Google service account.
  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }
}

resource "google_container_node_pool" "system" {
  project    = var.project_id
  name       = "system"
  location   = var.region
  cluster    = google_container_cluster.this.name
  node_count = var.system_node_count

  node_config {
    machine_type    = var.system_machine_type
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    labels = {
      "herd.io/pool" = "system"
    }
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}

resource "google_container_node_pool" "gpu" {
  project        = var.project_id
  name           = "gpu"
  location       = var.region
  cluster        = google_container_cluster.this.name
  node_locations = var.gpu_node_locations

  autoscaling {
    min_node_count = var.gpu_min_nodes
    max_node_count = var.gpu_max_nodes
  }

  node_config {
    machine_type    = var.gpu_machine_type
    disk_size_gb    = var.gpu_disk_size_gb
    disk_type       = "pd-balanced"
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]

    guest_accelerator {
      type  = var.gpu_accelerator_type
      count = var.gpu_accelerator_count
      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }

    labels = {
      "herd.io/pool" = "gpu"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}
