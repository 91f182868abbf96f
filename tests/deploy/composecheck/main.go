// composecheck loads a Compose file with compose-go, the library `docker compose` itself uses: schema
// validation against the Compose specification, variable interpolation, path resolution and consistency
// checks (e.g. depends_on naming a service that does not exist). It prints the resolved project as JSON, so
// tests can check mounts, ports and environment without a Docker engine.
//
//	composecheck -f deploy/compose.yaml > project.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("f", "compose.yaml", "compose file")
	flag.Parse()
	opts, err := cli.NewProjectOptions([]string{*file}, cli.WithOsEnv, cli.WithResolvedPaths(true),
		cli.WithConsistency(true), cli.WithNormalization(true))
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "composecheck:", err)
	os.Exit(1)
}
