# A cluster without hardware cannot run a job.
facility "lab" {
  it_power_kw = 50
  design_pue  = 1.25
}

training_cluster "main" {
  facility  = facility.lab
  scheduler = "local"
  hardware  = []
}

training_job "train" {
  cluster = training_cluster.main # ERROR: Cluster has no nodes
  command = ["python3", "train.py"]
}
