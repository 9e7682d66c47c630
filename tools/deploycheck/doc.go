// Package deploycheck tests Baton's deployment files, which nothing else
// exercises without a Docker engine: the Dockerfile and docker-compose.yml at the
// repository root. Its tests read both as text and check them against the code
// they deploy:
//
//   - every environment variable a Baton container gets is one config.Fields
//     knows, and its value loads;
//   - every listen address is on 0.0.0.0, published, and probed by the
//     healthcheck; TEMPORAL_ADDRESS and DATABASE_URL name services that exist,
//     with matching ports and credentials; every depends_on names a service,
//     with a condition that service can meet;
//   - the image builds the worker, the starter and cmd/healthcheck with the
//     go.mod Go version, runs as a non-root user, exposes every published port,
//     and holds the files the compose file points at;
//   - the Temporal search attributes the admin-tools job registers are exactly
//     workflows.SearchAttributeNames, all Keyword, in the workers' namespace.
//
// A test also breaks the files in many small ways and checks each is caught, so
// the checks cannot silently pass. The package has no non-test code.
package deploycheck
