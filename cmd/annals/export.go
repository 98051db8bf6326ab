package main

import (
	"context"
	"io"
)

// exportCmd writes the whole archive as RDF. It is filled in with the exporter.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_ = ctx
	_, _ = stdout, stderr
	return errUsage
}
