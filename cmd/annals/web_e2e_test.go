package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The web face end to end: web/e2e/client.mjs (the generated client from
// Node over gRPC, Connect and gRPC-Web) and web/e2e/browser.mjs (Debian's
// Chromium driven by playwright-core: searches, the timeline, an actor's
// events, accessibility, screenshots, the client in a page) against one
// real `annals serve`. Node, Chromium and the npm packages come from
// scripts/install-tools; without them the test is skipped on a developer's
// machine and fails in CI (CI set).

// repoRoot is the checkout's top directory, from cmd/annals.
var repoRoot = filepath.Join("..", "..")

// requireTool skips the test, or fails it in CI, when ok is false.
func requireTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI must have it (scripts/install-tools)", what)
	}
	t.Skipf("%s is not installed (scripts/install-tools); skipped outside CI", what)
}

// webTools returns node and Chromium, and checks the npm packages the
// scripts import.
func webTools(t *testing.T) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	requireTool(t, err == nil, "node")
	chromium = os.Getenv("ANNALS_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err = os.Stat(chromium)
	requireTool(t, err == nil, "chromium (Debian package chromium, or ANNALS_CHROMIUM)")
	for _, pkg := range []string{"playwright-core", "axe-core", "@connectrpc/connect-node", "@connectrpc/connect-web", "@bufbuild/protobuf"} {
		_, err := os.Stat(filepath.Join(repoRoot, "node_modules", pkg, "package.json"))
		requireTool(t, err == nil, "npm package "+pkg)
	}
	return node, chromium
}

// artifactsDir is where the browser test leaves its screenshots and
// accessibility report: $ANNALS_ARTIFACTS, else .cache/e2e/web in the checkout.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ANNALS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(repoRoot, ".cache", "e2e", "web")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

// webScriptTimeout bounds one script; the browser one takes about 30 s here.
const webScriptTimeout = 5 * time.Minute

func TestWebEndToEnd(t *testing.T) {
	skipUnlessLong(t)
	node, chromium := webTools(t)
	const token = "web-e2e-token-0123456789"
	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+token)
	waitServing(t, dial(t, d.grpcAddr))
	art := artifactsDir(t)
	env := []string{
		"ANNALS_HTTP=http://" + d.httpAddr,
		"ANNALS_GRPC=http://" + d.grpcAddr,
		"ANNALS_IMPORT_TOKEN=" + token,
		"CHROMIUM=" + chromium,
		"ANNALS_ARTIFACTS=" + art,
	}
	for _, script := range []string{"client.mjs", "browser.mjs"} {
		t.Run(script, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), webScriptTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join("web", "e2e", script))
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			t.Logf("node web/e2e/%s:\n%s", script, out)
			if err != nil {
				t.Errorf("node web/e2e/%s: %v", script, err)
			}
		})
	}
	t.Logf("screenshots of each kind of page and the accessibility report (axe.txt): %s", art)
}
