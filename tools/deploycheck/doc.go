// Package deploycheck ties Baton's deployment files, the Dockerfile and
// docker-compose.yml at the repository root, to the code they deploy. Nothing
// else notices when the code and these files drift apart: Docker accepts a
// misspelt setting, and the stack only fails once it runs. Its tests read
// docker-compose.yml with yaml.v3 and only the Dockerfile lines they need (ENV,
// COPY, RUN go build, ENTRYPOINT, HEALTHCHECK), and check that:
//
//   - every environment variable a Baton service gets, from its compose
//     environment or the image's ENV, is a setting config.Fields knows (a
//     Baton service is one named baton-* or built from the Dockerfile); each
//     such service's environment loads with config.Load; and the hosts of
//     TEMPORAL_ADDRESS and DATABASE_URL are compose services;
//   - the search attributes the temporal-admin-tools script registers are
//     workflows.SearchAttributeNames as a set (Temporal does not care about the
//     order), each once, all --type Keyword;
//   - go build builds exactly the package main directories whose binaries the
//     image installs in /usr/local/bin; every /usr/local/bin program a Baton
//     service, ENTRYPOINT or HEALTHCHECK runs is one of them; and every
//     /etc/baton path they name maps through a COPY to a repository file.
//
// A test breaks the real files one way at a time and requires each break to be
// reported, and another pins what was read, so the checks cannot pass by reading
// nothing. Whether the files are otherwise valid and well written is left to
// `docker compose config` and hadolint (tools/lint-deploy), which need Docker or
// hadolint installed; these tests need neither. The package has no non-test code.
package deploycheck
