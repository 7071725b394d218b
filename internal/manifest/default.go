package manifest

// DSNTemplate derives POSTGRES_PASSWORD_DSN exactly as the CDB services
// expect it: the user from ${POSTGRES_USER:-claire_user}, the password
// URL-escaped (a '/' or '@' would otherwise break the URL), sslmode=require
// only with the TLS overlay.
const DSNTemplate = `postgresql://{{ env "POSTGRES_USER" "claire_user" | urluser }}:{{ secret "POSTGRES_PASSWORD" | urlpassword }}@cdb_postgres:5432/claire_de_binare?sslmode={{ if .TLS }}require{{ else }}disable{{ end }}`

// Default describes the Claire de Binare repository: used
// when the repo has no cdb-setup.yaml, so the tool works on the real repo out
// of the box.
func Default() *Manifest {
	m := &Manifest{
		Version:        1,
		Project:        "cdb",
		ComposeDir:     "infrastructure/compose",
		DefaultProfile: "dev",
		Profiles: map[string][]string{
			"dev":  {"base.yml", "dev.yml"},
			"prod": {"base.yml"},
		},
		Overlays: map[string][]string{
			"logging":           {"logging.yml"},
			"strict-health":     {"healthchecks-strict.yml", "healthchecks-mounts.yml"},
			"network-isolation": {"network-prod.yml"},
			"tls":               {"tls.yml"},
		},
		Targets: []string{
			"cdb_redis", "cdb_postgres", "cdb_prometheus", "cdb_grafana", "cdb_signal",
			"cdb_risk", "cdb_execution", "cdb_db_writer", "cdb_ws", "cdb_paper_runner",
		},
		TLS: TLS{
			// tls.yml mounts ../../../../../.cdb_local/tls from infrastructure/compose.
			Dir:   "../../../.cdb_local/tls",
			Files: []string{"ca.crt", "redis.crt", "redis.key", "postgres.crt", "postgres.key", "client.crt", "client.key"},
		},
		Secrets: map[string]Secret{
			"REDIS_PASSWORD":        {Kind: KindGenerated, Length: 32, Alphabet: "alnum"},
			"POSTGRES_PASSWORD":     {Kind: KindGenerated, Length: 32, Alphabet: "alnum", Volume: "postgres_data"},
			"GRAFANA_PASSWORD":      {Kind: KindGenerated, Length: 32, Alphabet: "alnum", Volume: "grafana_data"},
			"POSTGRES_PASSWORD_DSN": {Kind: KindDerived, Template: DSNTemplate},
			"SMTP_USER":             {Kind: KindExternal, Optional: true, Prompt: "SMTP user for Grafana and report mails (e.g. you@gmail.com)"},
			"SMTP_PASSWORD":         {Kind: KindExternal, Optional: true, Prompt: "SMTP password (for smtp.gmail.com:587 this is an app password)"},
			"SMTP_FROM":             {Kind: KindExternal, Optional: true, Prompt: "Sender address for alert and report mails"},
			"ALERT_EMAIL_TO":        {Kind: KindExternal, Optional: true, Prompt: "Where alert and report mails go"},
			"MEXC_API_KEY.txt":      {Kind: KindExternal, Optional: true, Prompt: "MEXC API key (leave empty for mock trading)"},
			"MEXC_API_SECRET.txt":   {Kind: KindExternal, Optional: true, Prompt: "MEXC API secret (leave empty for mock trading)"},
		},
		Team: Team{Sealed: DefaultTeamSealed, Recipients: DefaultTeamRecipients},
		Checks: []Check{
			{Kind: "postgres-login", Service: "cdb_postgres", Secret: "POSTGRES_PASSWORD", Address: "127.0.0.1:5432", User: "claire_user", Database: "claire_de_binare"},
			{Kind: "redis-auth", Service: "cdb_redis", Secret: "REDIS_PASSWORD", Address: "127.0.0.1:6379"},
			{Kind: "http-basic-auth", Service: "cdb_grafana", Secret: "GRAFANA_PASSWORD", Address: "127.0.0.1:3000", User: "admin", Path: "/api/user"},
		},
	}
	return m
}
