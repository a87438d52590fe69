state = "/tmp/vagt-fuzz-state"
listen = "127.0.0.1:8470"
token_file = "/tmp/vagt-fuzz-token"
max_parallel = 2
public_url = "https://vagt.example"

channel "ops" {
  webhook = "https://alerts.example/vagt",
  email = { to = "it-drift@kommune.example", from = "vagt@kommune.example",
            smtp = "smtp://mail.kommune.example:25" },
  syslog = true,
}

robot "cpr-opslag" {
  script = "scripts/cpr-opslag.lua",
  schedule = "30 2 * * 1-5",
  tz = "Europe/Copenhagen",
  timeout = 3600, params = { batch = "/srv/in/cpr.csv" }, alert = { "ops" },
}
