package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"gopkg.in/yaml.v3"

	"github.com/connectorhq/connector/internal/auth"
)

// Static checks of the deployment files: Docker cannot build and no cluster
// runs here, so these pin what the image, the compose file and the
// Kubernetes manifests promise. (proxy_test.go runs nginx and caddy.)

var repoRoot = filepath.Join("..", "..")

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// knownSetting reports whether name is a variable of the settings table.
func knownSetting(name string) bool {
	return slices.ContainsFunc(settings, func(s setting) bool { return s.env == name })
}

// knownEnv reports whether name is a variable of the settings table or one
// the Go runtime reads.
func knownEnv(name string) bool {
	return knownSetting(name) || slices.Contains([]string{"GOMEMLIMIT", "GOGC", "GOMAXPROCS", "GODEBUG"}, name)
}

// settingDefault is the table's default of a variable, or "" when unknown.
func settingDefault(name string) string {
	for _, s := range settings {
		if s.env == name {
			return s.def
		}
	}
	return ""
}

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct{ cmd, args string }

func parseDockerfile(t *testing.T, text string) []dockerInstr {
	t.Helper()
	var out []dockerInstr
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") { // a comment inside a continued instruction
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	return out
}

// makeBuildCommand is the recipe of the Makefile's build target.
func makeBuildCommand(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^build:.*\n\t(.+)$`).FindStringSubmatch(readRepoFile(t, "Makefile"))
	if m == nil {
		t.Fatal("the Makefile has no build target")
	}
	return m[1]
}

// normalizeBuild drops the output path and spells the version one way, so
// that the Dockerfile's and the Makefile's builds compare.
func normalizeBuild(cmd string) string {
	cmd = regexp.MustCompile(`\$[({]VERSION[)}]`).ReplaceAllString(cmd, "VERSION")
	cmd = regexp.MustCompile(`\s-o\s+\S+`).ReplaceAllString(cmd, "")
	return strings.Join(strings.Fields(cmd), " ")
}

func TestDockerfile(t *testing.T) {
	instrs := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	var stages []string // FROM arguments
	byStage := map[int][]dockerInstr{}
	for _, in := range instrs {
		if in.cmd == "FROM" {
			stages = append(stages, in.args)
		}
		byStage[len(stages)-1] = append(byStage[len(stages)-1], in)
	}
	if len(stages) != 2 || !regexp.MustCompile(`^golang:\S+ AS build$`).MatchString(stages[0]) ||
		stages[1] != "gcr.io/distroless/static-debian12:nonroot" {
		t.Fatalf("stages %q: want a golang build stage named build, then gcr.io/distroless/static-debian12:nonroot", stages)
	}
	goMod := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if goVersion := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)$`).FindStringSubmatch(readRepoFile(t, "Dockerfile")); goMod == nil || goVersion == nil || goVersion[1] != goMod[1] {
		t.Errorf("ARG GO_VERSION %v does not match go.mod's go %v", goVersion, goMod)
	}
	find := func(stage int, cmd string) []string {
		var args []string
		for _, in := range byStage[stage] {
			if in.cmd == cmd {
				args = append(args, in.args)
			}
		}
		return args
	}

	// The build: module cache mounts, and exactly the Makefile's command.
	var build string
	for _, run := range find(0, "RUN") {
		if strings.Contains(run, "go build") {
			build = run
		}
		if strings.Contains(run, "go ") && !strings.Contains(run, "--mount=type=cache,target=/go/pkg/mod") {
			t.Errorf("RUN %s: want --mount=type=cache,target=/go/pkg/mod", run)
		}
	}
	if !strings.Contains(build, "--mount=type=cache,target=/root/.cache/go-build") {
		t.Errorf("the go build RUN has no build cache mount: %s", build)
	}
	build = regexp.MustCompile(`--mount=\S+\s*`).ReplaceAllString(build, "")
	if got, want := normalizeBuild(build), normalizeBuild(makeBuildCommand(t)); got != want {
		t.Errorf("the Dockerfile builds with\n  %s\nthe Makefile with\n  %s", got, want)
	}
	if !strings.HasPrefix(build, "CGO_ENABLED=0 ") {
		t.Errorf("build %q: want CGO_ENABLED=0 (the runtime image has no libc)", build)
	}
	for stage := range 2 {
		if !slices.ContainsFunc(find(stage, "ARG"), func(a string) bool { return strings.HasPrefix(a, "VERSION") }) {
			t.Errorf("stage %d has no ARG VERSION", stage)
		}
	}

	// The runtime: the binary, non-root, volume, port, health check, labels.
	var binPath string
	for _, c := range find(1, "COPY") {
		if f := strings.Fields(c); strings.Contains(c, "--from=build") && strings.HasSuffix(f[len(f)-2], "/connector") {
			binPath = f[len(f)-1]
		}
	}
	if binPath == "" {
		t.Fatal("the runtime stage copies no connector binary from the build stage")
	}
	exec := func(name string) string {
		if args := find(1, name); len(args) == 1 {
			return args[0]
		}
		t.Errorf("want exactly one %s in the runtime stage", name)
		return ""
	}
	if got := exec("ENTRYPOINT"); got != `["`+binPath+`"]` {
		t.Errorf("ENTRYPOINT %s, want [%q]", got, binPath)
	}
	if got := exec("CMD"); got != `["serve"]` {
		t.Errorf("CMD %s, want [\"serve\"]", got)
	}
	if user := exec("USER"); !regexp.MustCompile(`^65532(:65532)?$`).MatchString(user) {
		t.Errorf("USER %q: want the numeric non-root user 65532 (runAsNonRoot cannot check a name)", user)
	}
	hc := exec("HEALTHCHECK")
	if !strings.HasSuffix(hc, `CMD ["`+binPath+`", "healthcheck"]`) || !strings.Contains(hc, "--timeout=") {
		t.Errorf("HEALTHCHECK %s: want a timeout and CMD [%q, \"healthcheck\"] (distroless has no curl)", hc, binPath)
	}
	env := map[string]string{}
	for _, e := range find(1, "ENV") {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
			if !knownSetting(k) {
				t.Errorf("ENV %s is not a setting of config.go", k)
			}
		}
	}
	if env["ADDR"] != "0.0.0.0:8000" || env["INDEX_DIR"] != "/data/index" {
		t.Errorf("ENV %v: want ADDR=0.0.0.0:8000 and INDEX_DIR=/data/index", env)
	}
	if !regexp.MustCompile(`(?m)^#.*-m \S+ -e GOMEMLIMIT=\S+`).MatchString(readRepoFile(t, "Dockerfile")) {
		t.Error("the Dockerfile's header does not show GOMEMLIMIT beside a memory limit (-m)")
	}
	if got := exec("VOLUME"); got != "/data" {
		t.Errorf("VOLUME %s, want /data", got)
	}
	if got := exec("EXPOSE"); got != "8000" {
		t.Errorf("EXPOSE %s, want 8000", got)
	}
	labels := strings.Join(find(1, "LABEL"), " ")
	for _, want := range []string{`org.opencontainers.image.version="${VERSION}"`, "org.opencontainers.image.source=", "org.opencontainers.image.title="} {
		if !strings.Contains(labels, want) {
			t.Errorf("LABEL lacks %s", want)
		}
	}

	// The context keeps what the build needs and drops local state.
	ignore := strings.Fields(readRepoFile(t, ".dockerignore"))
	for _, keep := range []string{"go.mod", "go.sum", "cmd", "internal", "cmd/", "internal/", "/cmd", "/internal"} {
		if slices.Contains(ignore, keep) {
			t.Errorf(".dockerignore excludes %s, which the build needs", keep)
		}
	}
	for _, drop := range []string{".git", ".env", "/data/"} {
		if !slices.Contains(ignore, drop) {
			t.Errorf(".dockerignore does not exclude %s", drop)
		}
	}
}

// TestStaticBuild runs the Makefile's (and the Dockerfile's) build command:
// the binary must be static, to run on distroless/static, and stamped.
func TestStaticBuild(t *testing.T) {
	out := filepath.Join(t.TempDir(), "connector")
	cmdline := strings.ReplaceAll(makeBuildCommand(t), "$(VERSION)", "v9.9.9-test")
	cmdline = regexp.MustCompile(`-o\s+connector\b`).ReplaceAllString(cmdline, "-o "+out)
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (%v): it would not start on distroless/static", cmdline, p.Type)
		}
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil || strings.TrimSpace(string(got)) != "connector v9.9.9-test" {
		t.Errorf("version: %q %v", got, err)
	}
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, name)))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// at follows a path of map keys and list indexes through decoded YAML.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func list(v any) []any { l, _ := v.([]any); return l }

func TestComposeFile(t *testing.T) {
	docs := yamlDocs(t, "deploy/docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	c := docs[0]
	svc := func(name string) map[string]any {
		s, _ := at(c, "services", name).(map[string]any)
		if s == nil {
			t.Fatalf("no service %s", name)
		}
		return s
	}
	index, server, caddy := svc("index"), svc("connector"), svc("caddy")

	for name, s := range map[string]map[string]any{"index": index, "connector": server} {
		if at(s, "build", "context") != ".." || at(s, "build", "dockerfile") != "Dockerfile" || str(at(s, "image")) == "" {
			t.Errorf("%s: want the image built from ../Dockerfile: %v", name, s["build"])
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "Dockerfile")); err != nil {
			t.Error(err)
		}
		if at(s, "image") != at(index, "image") {
			t.Errorf("%s: not the same image as index", name)
		}
		if at(s, "env_file", 0, "path") != ".env" {
			t.Errorf("%s: env_file %v, want .env", name, s["env_file"])
		}
		environment, _ := at(s, "environment").(map[string]any)
		for k := range environment {
			if !knownSetting(k) {
				t.Errorf("%s: environment %s is not a setting of config.go", name, k)
			}
		}
	}
	if !slices.Equal(list(index["command"]), []any{"index", "/docs"}) {
		t.Errorf("index command %v, want [index /docs]", index["command"])
	}
	if vols := list(index["volumes"]); !slices.Contains(vols, any("index:/data")) ||
		!slices.ContainsFunc(vols, func(v any) bool { return strings.HasSuffix(str(v), ":/docs:ro") }) {
		t.Errorf("index volumes %v: want index:/data and the documents read-only at /docs", vols)
	}
	if str(index["restart"]) != "no" {
		t.Errorf("index restart %v: a one-shot service must not restart", index["restart"])
	}

	if !slices.Equal(list(server["command"]), []any{"serve"}) {
		t.Errorf("connector command %v", server["command"])
	}
	if got := str(at(server, "depends_on", "index", "condition")); got != "service_completed_successfully" {
		t.Errorf("connector depends on index with %q, want service_completed_successfully", got)
	}
	if !slices.Contains(list(server["volumes"]), any("index:/data:ro")) {
		t.Errorf("connector volumes %v: want index:/data:ro", server["volumes"])
	}
	if pub := str(at(server, "environment", "PUBLIC_BASE_URL")); !strings.HasPrefix(pub, "https://${DOMAIN") {
		t.Errorf("PUBLIC_BASE_URL %q: want https://${DOMAIN}", pub)
	}
	if test := list(at(server, "healthcheck", "test")); len(test) < 3 || test[0] != "CMD" || !strings.HasSuffix(str(test[1]), "/connector") || test[2] != "healthcheck" {
		t.Errorf("connector healthcheck %v: want the binary's healthcheck command", test)
	}
	if _, ok := server["ports"]; ok {
		t.Error("connector publishes ports: only caddy should be reachable from outside")
	}

	if got := str(at(caddy, "depends_on", "connector", "condition")); got != "service_healthy" {
		t.Errorf("caddy depends on connector with %q, want service_healthy", got)
	}
	if !slices.Contains(list(caddy["volumes"]), any("./Caddyfile:/etc/caddy/Caddyfile:ro")) {
		t.Errorf("caddy volumes %v: want ./Caddyfile mounted", caddy["volumes"])
	}
	if at(caddy, "environment", "UPSTREAM") != "connector:8000" || !slices.Contains(list(caddy["ports"]), any("443:443")) {
		t.Errorf("caddy: environment %v ports %v", caddy["environment"], caddy["ports"])
	}
	if at(caddy, "healthcheck", "test") == nil {
		t.Error("caddy has no healthcheck")
	}
	for _, v := range []string{"index", "caddy_data", "caddy_config"} {
		if _, ok := at(c, "volumes").(map[string]any)[v]; !ok {
			t.Errorf("volume %s is not declared", v)
		}
	}
	// Every variable the compose file reads from deploy/.env is in its example.
	example := readRepoFile(t, "deploy/.env.example")
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)`).FindAllStringSubmatch(readRepoFile(t, "deploy/docker-compose.yml"), -1) {
		if !strings.Contains(example, "\n"+m[1]+"=") {
			t.Errorf("deploy/.env.example does not show %s", m[1])
		}
	}
}

// TestNginxExampleDirectives pins the settings of deploy/nginx.conf that SSE
// and the connector need (proxy_test.go runs them).
func TestNginxExampleDirectives(t *testing.T) {
	conf := readRepoFile(t, "deploy/nginx.conf")
	proxy := regexp.MustCompile(`#.*`).ReplaceAllString(nginxBlock(t, conf, "proxy"), "") // directives only
	for _, want := range []string{
		"proxy_pass http://connector;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`,
		"proxy_buffering off;", "proxy_cache off;", "gzip off;",
		"proxy_read_timeout 1h;", "proxy_send_timeout 1h;",
		"proxy_set_header Host $host;", "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
		"proxy_set_header X-Forwarded-Proto $scheme;", "proxy_set_header X-Request-Id $connector_request_id;",
	} {
		if !strings.Contains(strings.Join(strings.Fields(proxy), " "), want) {
			t.Errorf("the proxy block lacks %s", want)
		}
	}
	if strings.Contains(proxy, "proxy_ignore_headers") {
		t.Error("the proxy block ignores upstream headers: X-Accel-Buffering must be honoured")
	}
	m := regexp.MustCompile(`client_max_body_size (\d+)m;`).FindStringSubmatch(proxy)
	limit := cmpDefault(settingDefault("MAX_BODY_BYTES"), "1048576")
	if m == nil || m[1]+"<<20" != mib(limit) {
		t.Errorf("client_max_body_size %v: want MAX_BODY_BYTES' default, %s bytes", m, limit)
	}
	if !strings.Contains(conf, "listen 443 ssl") || !strings.Contains(conf, "ssl_certificate ") || !strings.Contains(conf, "return 301 https://") {
		t.Error("deploy/nginx.conf lacks the TLS server or the redirect to HTTPS")
	}
}

func cmpDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// mib spells a byte count that is a whole number of MiB as "N<<20".
func mib(bytes string) string {
	n, err := strconv.Atoi(bytes)
	if err != nil || n%(1<<20) != 0 {
		return bytes
	}
	return strconv.Itoa(n>>20) + "<<20"
}

// k8sDoc is one decoded manifest and the file it came from.
type k8sDoc struct {
	file string
	obj  map[string]any
}

func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join(repoRoot, "deploy", "kubernetes")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/kubernetes")
	}
	apiVersions := map[string]string{
		"Deployment": "apps/v1", "Service": "v1", "Ingress": "networking.k8s.io/v1", "Job": "batch/v1",
		"Secret": "v1", "PersistentVolumeClaim": "v1", "Kustomization": "kustomize.config.k8s.io/v1beta1",
	}
	byKind := map[string][]k8sDoc{}
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot, f)
		for _, obj := range yamlDocs(t, filepath.ToSlash(rel)) {
			kind, api := str(obj["kind"]), str(obj["apiVersion"])
			if want, ok := apiVersions[kind]; !ok || api != want {
				t.Errorf("%s: kind %q apiVersion %q (want one of %v)", rel, kind, api, apiVersions)
			}
			if kind != "Kustomization" && str(at(obj, "metadata", "name")) == "" {
				t.Errorf("%s: %s without metadata.name", rel, kind)
			}
			byKind[kind] = append(byKind[kind], k8sDoc{filepath.Base(f), obj})
		}
	}
	one := func(kind string) map[string]any {
		if len(byKind[kind]) != 1 {
			t.Fatalf("want one %s, found %d", kind, len(byKind[kind]))
		}
		return byKind[kind][0].obj
	}
	dep, svc, ing, job, secret := one("Deployment"), one("Service"), one("Ingress"), one("Job"), one("Secret")
	claims := map[string]bool{}
	for _, d := range byKind["PersistentVolumeClaim"] {
		claims[str(at(d.obj, "metadata", "name"))] = true
	}

	// Deployment.
	podLabels, _ := at(dep, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range at(dep, "spec", "selector", "matchLabels").(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("Deployment selector %s=%v does not match the pod labels %v", k, v, podLabels)
		}
	}
	// One replica: a legacy SSE session (the /sse/ URL README gives ChatGPT)
	// lives in one process, and cookie affinity pins only clients that keep
	// cookies. More replicas are a documented choice, not the default.
	if r := at(dep, "spec", "replicas"); r != nil && r != 1 {
		t.Errorf("Deployment replicas %v: want 1, as SSE sessions live in one pod (README, Scaling)", r)
	}
	if doc := readRepoFile(t, "deploy/kubernetes/README.md"); !strings.Contains(doc, "one replica") || !strings.Contains(doc, "/mcp") {
		t.Error("deploy/kubernetes/README.md does not say why one replica, and that /mcp scales")
	}
	pod := at(dep, "spec", "template", "spec")
	checkPodSecurity(t, "Deployment", pod)
	c := at(pod, "containers", 0)
	if !slices.Equal(list(at(c, "args")), []any{"serve"}) {
		t.Errorf("Deployment args %v", at(c, "args"))
	}
	if at(c, "ports", 0, "name") != "http" || at(c, "ports", 0, "containerPort") != 8000 {
		t.Errorf("Deployment port %v: want http 8000", at(c, "ports"))
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if at(c, probe, "httpGet", "path") != path || at(c, probe, "httpGet", "port") != "http" {
			t.Errorf("Deployment %s %v: want GET %s on port http", probe, at(c, probe), path)
		}
	}
	for _, r := range []string{"requests", "limits"} {
		if at(c, "resources", r, "memory") == nil {
			t.Errorf("Deployment resources.%s.memory is not set", r)
		}
	}
	env := envOf(t, "Deployment", c)
	if env["ADDR"] != "0.0.0.0:8000" || env["INDEX_DIR"] != "/data/index" || !strings.HasPrefix(env["PUBLIC_BASE_URL"], "https://") {
		t.Errorf("Deployment env %v", env)
	}
	checkGoMemLimit(t, "Deployment", c, env)
	mounts := mountsOf(c)
	if m := mounts["/data"]; m == nil || at(m, "readOnly") != true {
		t.Errorf("Deployment: the index must be mounted read-only at /data: %v", m)
	}
	indexVol := volumeOf(pod, str(at(mounts["/data"], "name")))
	if at(indexVol, "persistentVolumeClaim", "readOnly") != true || !claims[str(at(indexVol, "persistentVolumeClaim", "claimName"))] {
		t.Errorf("Deployment index volume %v: want a read-only claim declared in the manifests", indexVol)
	}
	if m := mounts["/tmp"]; m == nil || volumeOf(pod, str(at(m, "name")))["emptyDir"] == nil {
		t.Error("Deployment: /tmp must be an emptyDir (the root filesystem is read-only)")
	}
	if secretName := str(at(c, "envFrom", 0, "secretRef", "name")); secretName != str(at(secret, "metadata", "name")) {
		t.Errorf("Deployment envFrom secret %q, the example Secret is %q", secretName, at(secret, "metadata", "name"))
	}
	for k, v := range at(secret, "stringData").(map[string]any) {
		if !knownSetting(k) {
			t.Errorf("Secret key %s is not a setting of config.go", k)
		}
		if k == "API_KEYS" {
			if err := auth.CheckAPIKeys(strings.Split(str(v), ",")); err != nil {
				t.Errorf("Secret API_KEYS example: %v", err)
			}
		}
	}

	// Service: selects the pods, on the container's port.
	for k, v := range at(svc, "spec", "selector").(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("Service selector %s=%v does not select the Deployment's pods", k, v)
		}
	}
	if at(svc, "spec", "ports", 0, "targetPort") != "http" {
		t.Errorf("Service targetPort %v, want http", at(svc, "spec", "ports", 0, "targetPort"))
	}

	// Ingress: SSE-friendly ingress-nginx annotations and the Service.
	ann, _ := at(ing, "metadata", "annotations").(map[string]any)
	for k, want := range map[string]string{
		"proxy-buffering": "off", "proxy-read-timeout": "3600", "proxy-send-timeout": "3600",
		"proxy-http-version": "1.1", "proxy-body-size": "1m", "affinity": "cookie",
	} {
		if got := str(ann["nginx.ingress.kubernetes.io/"+k]); got != want {
			t.Errorf("Ingress annotation %s = %q, want %q", k, got, want)
		}
	}
	backend := at(ing, "spec", "rules", 0, "http", "paths", 0, "backend", "service")
	if at(backend, "name") != at(svc, "metadata", "name") || at(backend, "port", "name") != at(svc, "spec", "ports", 0, "name") {
		t.Errorf("Ingress backend %v does not name the Service's port", backend)
	}
	if host := str(at(ing, "spec", "rules", 0, "host")); !strings.Contains(env["PUBLIC_BASE_URL"], "://"+host) {
		t.Errorf("Ingress host %q is not PUBLIC_BASE_URL's (%s): the connector would refuse it", host, env["PUBLIC_BASE_URL"])
	}

	// Job: builds the index into the claim the Deployment reads.
	jpod := at(job, "spec", "template", "spec")
	checkPodSecurity(t, "Job", jpod)
	if at(jpod, "restartPolicy") != "Never" && at(jpod, "restartPolicy") != "OnFailure" {
		t.Errorf("Job restartPolicy %v", at(jpod, "restartPolicy"))
	}
	jc := at(jpod, "containers", 0)
	if !slices.Equal(list(at(jc, "args")), []any{"index", "/docs"}) || at(jc, "image") != at(c, "image") {
		t.Errorf("Job container %v: want the same image with args [index /docs]", jc)
	}
	jenv, jmounts := envOf(t, "Job", jc), mountsOf(jc)
	checkGoMemLimit(t, "Job", jc, jenv)
	if jenv["INDEX_DIR"] != env["INDEX_DIR"] {
		t.Errorf("Job INDEX_DIR %q, Deployment %q", jenv["INDEX_DIR"], env["INDEX_DIR"])
	}
	if m := jmounts["/data"]; m == nil || at(m, "readOnly") == true ||
		at(volumeOf(jpod, str(at(m, "name"))), "persistentVolumeClaim", "claimName") != at(indexVol, "persistentVolumeClaim", "claimName") {
		t.Errorf("Job: want the Deployment's index claim mounted writable at /data: %v", m)
	}
	if m := jmounts["/docs"]; m == nil || at(m, "readOnly") != true {
		t.Errorf("Job: want the documents read-only at /docs: %v", m)
	}

	// kustomization.yaml lists every manifest but the Secret example.
	kust := one("Kustomization")
	var want []any
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && b != "secret.example.yaml" {
			want = append(want, b)
		}
	}
	got := slices.Clone(list(kust["resources"]))
	slices.SortFunc(got, func(a, b any) int { return strings.Compare(str(a), str(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v", got, want)
	}

	// With kubectl at hand (not installed by the project), kustomize renders
	// the set offline.
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
		if err != nil || bytes.Count(out, []byte("\nkind: ")) < len(want) {
			t.Errorf("kubectl kustomize %s: %v\n%s", dir, err, out)
		}
	}
}

func checkPodSecurity(t *testing.T, what string, pod any) {
	t.Helper()
	if at(pod, "securityContext", "runAsNonRoot") != true || at(pod, "securityContext", "runAsUser") != 65532 {
		t.Errorf("%s: pod securityContext %v: want runAsNonRoot and runAsUser 65532", what, at(pod, "securityContext"))
	}
	if at(pod, "automountServiceAccountToken") != false {
		t.Errorf("%s: automountServiceAccountToken should be false", what)
	}
	for i := range list(at(pod, "containers")) {
		sc := at(pod, "containers", i, "securityContext")
		if at(sc, "readOnlyRootFilesystem") != true || at(sc, "allowPrivilegeEscalation") != false ||
			!slices.Equal(list(at(sc, "capabilities", "drop")), []any{"ALL"}) {
			t.Errorf("%s container %d securityContext %v: want readOnlyRootFilesystem, no privilege escalation, drop ALL", what, i, sc)
		}
	}
}

// checkGoMemLimit checks that GOMEMLIMIT is set a little under the
// container's memory limit, which the Go runtime does not see.
func checkGoMemLimit(t *testing.T, what string, container any, env map[string]string) {
	t.Helper()
	limit := str(at(container, "resources", "limits", "memory"))
	hard, err := parseBytes(limit, map[string]int64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30})
	if err != nil {
		t.Errorf("%s resources.limits.memory %q: %v", what, limit, err)
		return
	}
	soft, err := parseBytes(env["GOMEMLIMIT"], map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30})
	if err != nil {
		t.Errorf("%s env GOMEMLIMIT %q: %v (want it about 10%% under limits.memory %s)", what, env["GOMEMLIMIT"], err, limit)
		return
	}
	if soft >= hard || soft < hard*3/4 {
		t.Errorf("%s GOMEMLIMIT %s with limits.memory %s: want it a little under the limit (75%% to 99%%)", what, env["GOMEMLIMIT"], limit)
	}
}

// parseBytes reads a number followed by one of units' suffixes.
func parseBytes(s string, units map[string]int64) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	unit, ok := units[s[i:]]
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if !ok || err != nil {
		return 0, errors.New("not a whole number with a known unit")
	}
	return n * unit, nil
}

func envOf(t *testing.T, what string, container any) map[string]string {
	t.Helper()
	env := map[string]string{}
	for i := range list(at(container, "env")) {
		name := str(at(container, "env", i, "name"))
		env[name] = str(at(container, "env", i, "value"))
		if !knownEnv(name) {
			t.Errorf("%s env %s is not a setting of config.go nor a Go runtime variable", what, name)
		}
	}
	return env
}

func mountsOf(container any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for i := range list(at(container, "volumeMounts")) {
		vm, _ := at(container, "volumeMounts", i).(map[string]any)
		m[str(vm["mountPath"])] = vm
	}
	return m
}

func volumeOf(pod any, name string) map[string]any {
	for i := range list(at(pod, "volumes")) {
		if v, _ := at(pod, "volumes", i).(map[string]any); str(v["name"]) == name {
			return v
		}
	}
	return nil
}

// TestServeReadOnlyIndex serves an index the server cannot write, as the
// Kubernetes Deployment mounts it (and as compose does): built by another
// process, read-only, served by a user that owns nothing (65532 when the
// test runs as root), with SAMPLE_CORPUS=false.
func TestServeReadOnlyIndex(t *testing.T) {
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755) // the test's own temporary folders
	os.Chmod(base, 0o755)
	writeFiles(t, base, map[string]string{"docs/guide.md": "# Guide\n\nThe narwhal procedure is documented here."})
	indexDir := filepath.Join(base, "data", "index")
	if out, stderr, code := runCLI(t, base, []string{"INDEX_DIR=" + indexDir}, "index", "docs"); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, stderr)
	}
	filepath.WalkDir(filepath.Join(base, "data"), func(path string, d os.DirEntry, err error) error {
		if err == nil {
			mode := os.FileMode(0o444)
			if d.IsDir() {
				mode = 0o555
			}
			os.Chmod(path, mode)
		}
		return nil
	})
	t.Cleanup(func() {
		filepath.WalkDir(filepath.Join(base, "data"), func(path string, d os.DirEntry, err error) error {
			os.Chmod(path, 0o755)
			return nil
		})
	})

	bin := binary
	cmd := exec.Command(bin, "serve")
	if os.Geteuid() == 0 {
		// Root ignores permissions: run as the image's user, from a copy of
		// the binary it can execute.
		bin = filepath.Join(base, "connector")
		raw, err := os.ReadFile(binary)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, raw, 0o755); err != nil {
			t.Fatal(err)
		}
		for dir := base; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if info, err := os.Stat(dir); err == nil && info.Mode().Perm()&0o005 != 0o005 {
				t.Skipf("%s is not searchable by other users; cannot run the server as 65532", dir)
			}
		}
		cmd = exec.Command(bin, "serve")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	}
	port := freePort(t)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:"+strconv.Itoa(port), "INDEX_DIR="+indexDir, "SAMPLE_CORPUS=false",
		"LOG_FORMAT=json", "HOME=/nonexistent")
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	done := startProcess(t, cmd, 20*time.Second)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		stdout, _, code := runCLI(t, base, []string{"ADDR=" + addr}, "healthcheck", "--ready")
		if code == 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the server stopped on a read-only index: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 30s: %s\n%s", stdout, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"})
	var found searchOut
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "narwhal"}, &found); isErr || len(found.Results) != 1 || found.Results[0].ID != "docs/guide.md" {
		t.Fatalf("search: %s\n%s", text, logs.String())
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors in the log:\n%s", logs.String())
	}
}
