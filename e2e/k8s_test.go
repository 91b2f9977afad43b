package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The generated deploy/kubernetes trees are checked with the real libraries, without a
// cluster: every manifest is decoded by the Kubernetes API types with a strict serializer
// (an unknown or duplicated field fails, as kubectl --validate=strict does), and the overlays
// are built by kustomize's own library, krusty, from the golden tree on disk.

// strictDecoder decodes YAML manifests into the typed objects of k8s.io/api, failing on
// unknown and duplicate fields.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// manifests holds the typed objects of one kustomize build.
type manifests struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	configMaps  []*corev1.ConfigMap
	pvcs        []*corev1.PersistentVolumeClaim
	netpols     []*networkingv1.NetworkPolicy
}

func (m *manifests) add(t *testing.T, obj runtime.Object, where string) {
	t.Helper()
	switch o := obj.(type) {
	case *appsv1.Deployment:
		m.deployments = append(m.deployments, o)
	case *corev1.Service:
		m.services = append(m.services, o)
	case *policyv1.PodDisruptionBudget:
		m.pdbs = append(m.pdbs, o)
	case *corev1.ConfigMap:
		m.configMaps = append(m.configMaps, o)
	case *corev1.PersistentVolumeClaim:
		m.pvcs = append(m.pvcs, o)
	case *networkingv1.NetworkPolicy:
		m.netpols = append(m.netpols, o)
	default:
		t.Errorf("%s: unexpected %T", where, obj)
	}
}

// kustomize builds the kustomization in dir with krusty, as
// `kubectl kustomize --load-restrictor LoadRestrictionsNone dir` does.
func kustomize(t *testing.T, dir string) resmap.ResMap {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	res, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return res
}

// kustomizeBuild builds the kustomization in dir with krusty, as
// `kubectl kustomize --load-restrictor LoadRestrictionsNone dir` does, and decodes every
// resource strictly.
func kustomizeBuild(t *testing.T, dec runtime.Decoder, dir string) *manifests {
	t.Helper()
	res := kustomize(t, dir)
	m := &manifests{}
	for _, r := range res.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := dec.Decode(y, nil, nil)
		if err != nil {
			t.Fatalf("kustomize build %s: %s %s: %v", dir, r.GetKind(), r.GetName(), err)
		}
		m.add(t, obj, dir+": "+r.GetKind()+" "+r.GetName())
	}
	return m
}

// iniValue returns the value of key in section of an app.ini.
func iniValue(t *testing.T, body, section, key string) string {
	t.Helper()
	in := false
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = line == "["+section+"]"
			continue
		}
		if k, v, ok := strings.Cut(line, "="); in && ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("app.ini has no [%s] %s", section, key)
	return ""
}

func envValue(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	dec := strictDecoder(t)
	good := "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n    - port: 80\n"
	if _, _, err := dec.Decode([]byte(good), nil, nil); err != nil {
		t.Fatalf("a valid Service: %v", err)
	}
	for name, bad := range map[string]string{
		"an unknown field":   strings.Replace(good, "port: 80", "port: 80\n      tragetPort: 8000", 1),
		"a duplicated field": strings.Replace(good, "name: a", "name: a\n  name: b", 1),
	} {
		if _, _, err := dec.Decode([]byte(bad), nil, nil); err == nil {
			t.Errorf("%s was accepted: the check would miss typos", name)
		}
	}
}

// TestKubernetesManifestsDecodeStrictlyAndBuild checks deploy/kubernetes of every golden
// tree: strict decoding of each file, kustomize builds of the base and the production
// overlay, and what the Deployment must say for the server to be probed, drained and
// secured as its README promises.
func TestKubernetesManifestsDecodeStrictlyAndBuild(t *testing.T) {
	dec := strictDecoder(t)
	for _, dir := range goldenDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			kdir := filepath.Join(dir, "deploy", "kubernetes")
			db := manifestValue(t, dir, "db")
			auth := manifestValue(t, dir, "auth")
			name := manifestValue(t, dir, "name")
			kname := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
			prefix := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))

			// Each file as written, before kustomize touches it.
			files, err := filepath.Glob(filepath.Join(kdir, "*", "*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			overlays, _ := filepath.Glob(filepath.Join(kdir, "overlays", "*", "*.yaml"))
			files = append(files, overlays...)
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if filepath.Base(f) == "kustomization.yaml" {
					var k types.Kustomization
					if err := yaml.UnmarshalStrict(b, &k); err != nil {
						t.Errorf("%s: %v", f, err)
					}
					continue
				}
				obj, _, err := dec.Decode(b, nil, nil)
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				(&manifests{}).add(t, obj, f)
			}

			appIni, err := os.ReadFile(filepath.Join(dir, "conf", "app.ini"))
			if err != nil {
				t.Fatal(err)
			}
			port := iniValue(t, string(appIni), "server", "HTTPPort")
			shutdown, err := time.ParseDuration(iniValue(t, string(appIni), "server", "ShutdownTimeout"))
			if err != nil {
				t.Fatal(err)
			}

			kustomizeBuild(t, dec, filepath.Join(kdir, "base"))
			m := kustomizeBuild(t, dec, filepath.Join(kdir, "overlays", "production"))
			if len(m.deployments) != 1 || len(m.services) != 1 || len(m.pdbs) != 1 || len(m.configMaps) != 1 {
				t.Fatalf("production: %d deployments, %d services, %d PDBs, %d config maps; want one each",
					len(m.deployments), len(m.services), len(m.pdbs), len(m.configMaps))
			}
			d, svc, pdb, cm := m.deployments[0], m.services[0], m.pdbs[0], m.configMaps[0]
			if d.Name != kname {
				t.Errorf("Deployment %q, want %q", d.Name, kname)
			}
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]

			// The ConfigMap is conf/app.ini, mounted where the image's CMD reads it.
			if got := cm.Data["app.ini"]; got != string(appIni) {
				t.Errorf("ConfigMap %s app.ini differs from conf/app.ini", cm.Name)
			}
			if !regexp.MustCompile("^" + kname + `-config-[a-z0-9]{10}$`).MatchString(cm.Name) {
				t.Errorf("ConfigMap %q, want a name with kustomize's content hash (a changed app.ini rolls the pods)", cm.Name)
			}
			volumes := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				volumes[v.Name] = v
			}
			mounts := map[string]corev1.VolumeMount{}
			for _, vm := range c.VolumeMounts {
				if _, ok := volumes[vm.Name]; !ok {
					t.Errorf("volume mount %s names no volume", vm.Name)
				}
				mounts[vm.MountPath] = vm
			}
			if v := volumes[mounts["/app/conf"].Name]; v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
				t.Errorf("/app/conf is not the generated ConfigMap %s: %+v", cm.Name, v)
			}
			if strings.Join(c.Args, " ") != "-config /app/conf/app.ini" {
				t.Errorf("args %v, want the image's -config /app/conf/app.ini", c.Args)
			}
			if v := volumes[mounts["/tmp"].Name]; v.EmptyDir == nil {
				t.Errorf("/tmp is not an emptyDir: the root file system is read-only")
			}

			// Probes on the port the settings serve.
			if len(c.Ports) != 1 || fmt.Sprint(c.Ports[0].ContainerPort) != port || c.Ports[0].Name != "http" {
				t.Errorf("ports %+v, want http on HTTPPort %s", c.Ports, port)
			}
			for probe, want := range map[string]struct {
				p    *corev1.Probe
				path string
			}{"startup": {c.StartupProbe, "/healthz"}, "liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}} {
				if want.p == nil || want.p.HTTPGet == nil || want.p.HTTPGet.Path != want.path || want.p.HTTPGet.Port.String() != "http" {
					t.Errorf("%s probe %+v, want GET %s on port http", probe, want.p, want.path)
				}
			}

			// The drain: DrainDelay set, and the grace period covers it plus ShutdownTimeout.
			delayEnv, ok := envValue(c, prefix+"_SERVER_DRAINDELAY")
			if !ok {
				t.Fatalf("no %s_SERVER_DRAINDELAY: SIGTERM would close the listener while endpoints still route to the pod", prefix)
			}
			delay, err := time.ParseDuration(delayEnv.Value)
			if err != nil || delay <= 0 {
				t.Errorf("DrainDelay %q, want a positive duration", delayEnv.Value)
			}
			grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
			if grace < shutdown+delay+5*time.Second {
				t.Errorf("terminationGracePeriodSeconds %s < ShutdownTimeout %s + DrainDelay %s + 5s", grace, shutdown, delay)
			}
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
				t.Errorf("a preStop hook: DrainDelay does its work, and the image has no shell")
			}

			// Security.
			psc, sc := pod.SecurityContext, c.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
				t.Errorf("pod securityContext %+v, want runAsNonRoot with a non-zero runAsUser", psc)
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
				t.Errorf("container securityContext %+v, want a read-only root, no privilege escalation, no capabilities", sc)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v, want CPU and memory requests and a memory limit", c.Resources)
			}
			if c.Resources.Requests.StorageEphemeral().IsZero() || c.Resources.Limits.StorageEphemeral().Cmp(*c.Resources.Requests.StorageEphemeral()) < 0 {
				t.Errorf("resources %+v, want an ephemeral-storage request and a limit at least as large", c.Resources)
			}
			if tmp := volumes[mounts["/tmp"].Name]; tmp.EmptyDir == nil || tmp.EmptyDir.SizeLimit == nil || tmp.EmptyDir.SizeLimit.Cmp(*c.Resources.Limits.StorageEphemeral()) >= 0 {
				t.Errorf("/tmp %+v: want a sizeLimit below the ephemeral-storage limit (the logs need room too)", tmp)
			}
			checkNetworkPolicy(t, m.netpols, d, db)

			// Secrets come from a Secret, never from the manifests.
			var secrets []string
			if db != "sqlite" {
				secrets = append(secrets, prefix+"_DATABASE_PASSWORD")
			}
			if auth == "jwt" {
				secrets = append(secrets, prefix+"_AUTH_SECRET")
			}
			for _, s := range secrets {
				e, ok := envValue(c, s)
				if !ok || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != kname {
					t.Errorf("%s = %+v, want a secretKeyRef to the Secret %s", s, e, kname)
				}
			}

			// Service and PDB select the pods.
			labels := d.Spec.Template.Labels
			for what, sel := range map[string]map[string]string{"Service": svc.Spec.Selector, "PodDisruptionBudget": pdb.Spec.Selector.MatchLabels, "Deployment": d.Spec.Selector.MatchLabels} {
				if len(sel) == 0 {
					t.Errorf("%s selects nothing", what)
				}
				for k, v := range sel {
					if labels[k] != v {
						t.Errorf("%s selects %s=%s, the pods have %q", what, k, v, labels[k])
					}
				}
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" {
				t.Errorf("Service ports %+v, want one to the http port", svc.Spec.Ports)
			}
			if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
				t.Errorf("PDB maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
			}

			// SQLite: one writer on one volume. A server database: rolling, capacity kept.
			replicas := *d.Spec.Replicas
			if db == "sqlite" {
				if replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
					t.Errorf("SQLite: replicas %d, strategy %s; want 1 and Recreate", replicas, d.Spec.Strategy.Type)
				}
				if len(m.pvcs) != 1 {
					t.Fatalf("SQLite: %d PersistentVolumeClaims, want 1", len(m.pvcs))
				}
				if v := volumes[mounts["/app/data"].Name]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != m.pvcs[0].Name {
					t.Errorf("SQLite: /app/data is %+v, want the claim %s", v, m.pvcs[0].Name)
				}
			} else {
				ru := d.Spec.Strategy.RollingUpdate
				if replicas < 2 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
					ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
					t.Errorf("replicas %d, strategy %+v; want several replicas rolled with maxUnavailable 0", replicas, d.Spec.Strategy)
				}
				if len(m.pvcs) != 0 {
					t.Errorf("%d PersistentVolumeClaims with a database server", len(m.pvcs))
				}
				if e, _ := envValue(c, prefix+"_DATABASE_HOST"); e.Value == "" {
					t.Errorf("no %s_DATABASE_HOST: app.ini's 127.0.0.1 is the pod itself", prefix)
				}
				checkSpread(t, pod, d.Spec.Template.Labels)
			}

			// The README says why about the replicas of SQLite projects.
			readme, err := os.ReadFile(filepath.Join(kdir, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			if db == "sqlite" && !bytes.Contains(readme, []byte("SQLite is a file written by one process")) {
				t.Errorf("deploy/kubernetes/README.md does not say why SQLite runs one replica")
			}

			// A Secret is asked for exactly when the Deployment reads one.
			overlay, err := os.ReadFile(filepath.Join(kdir, "overlays", "production", "kustomization.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for what, text := range map[string][]byte{"README.md": readme, "overlays/production/kustomization.yaml": overlay} {
				asks := bytes.Contains(text, []byte("kubectl create secret"))
				if asks != (len(secrets) > 0) {
					t.Errorf("%s asks for a Secret: %t; the Deployment reads %v from one", what, asks, secrets)
				}
				for _, key := range secretKeys(c) {
					if !bytes.Contains(text, []byte("--from-literal="+key+"=")) {
						t.Errorf("%s does not say to create the Secret's key %s, which the Deployment reads", what, key)
					}
				}
			}
			if (len(secrets) == 0) != bytes.Contains(readme, []byte("| secrets | none needed |")) {
				t.Errorf("README.md's secrets row disagrees with the Deployment, which reads %v", secrets)
			}
		})
	}
}

// secretKeys lists the keys of Secrets the container reads.
func secretKeys(c corev1.Container) []string {
	var keys []string
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			keys = append(keys, e.ValueFrom.SecretKeyRef.Key)
		}
	}
	return keys
}

// checkNetworkPolicy checks that one NetworkPolicy selects the pods, lets in only the HTTP
// port, and lets out DNS and the database port (a server database) or nothing (SQLite).
func checkNetworkPolicy(t *testing.T, pols []*networkingv1.NetworkPolicy, d *appsv1.Deployment, db string) {
	t.Helper()
	if len(pols) != 1 {
		t.Fatalf("%d NetworkPolicies, want 1", len(pols))
	}
	np := pols[0]
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("NetworkPolicy selects %s=%s, the pods have %q", k, v, d.Spec.Template.Labels[k])
		}
	}
	if len(np.Spec.PodSelector.MatchLabels) == 0 {
		t.Errorf("the NetworkPolicy selects every pod of the namespace")
	}
	if fmt.Sprint(np.Spec.PolicyTypes) != "[Ingress Egress]" {
		t.Errorf("policyTypes %v, want both", np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.String() != "http" {
		t.Errorf("ingress %+v, want the http port only", np.Spec.Ingress)
	}
	var out []string
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			out = append(out, fmt.Sprintf("%s/%s", p.Port, *p.Protocol))
		}
	}
	want := map[string]string{"sqlite": "[]", "postgres": "[53/UDP 53/TCP 5432/TCP]", "mysql": "[53/UDP 53/TCP 3306/TCP]"}[db]
	if fmt.Sprint(out) != want {
		t.Errorf("egress to %v, want %s", out, want)
	}
	if db != "sqlite" {
		if to := np.Spec.Egress[1].To; len(to) != 1 || to[0].NamespaceSelector == nil {
			t.Errorf("production: egress to the database %+v, want its namespace only", to)
		}
	}
}

// checkSpread checks that the replicas are spread over nodes (required) and zones.
func checkSpread(t *testing.T, pod corev1.PodSpec, labels map[string]string) {
	t.Helper()
	keys := map[string]corev1.UnsatisfiableConstraintAction{}
	for _, c := range pod.TopologySpreadConstraints {
		keys[c.TopologyKey] = c.WhenUnsatisfiable
		if c.MaxSkew != 1 || c.LabelSelector == nil {
			t.Errorf("spread %+v, want maxSkew 1 over the pods' labels", c)
			continue
		}
		for k, v := range c.LabelSelector.MatchLabels {
			if labels[k] != v {
				t.Errorf("spread over %s=%s, the pods have %q", k, v, labels[k])
			}
		}
	}
	if keys["kubernetes.io/hostname"] != corev1.DoNotSchedule || keys["topology.kubernetes.io/zone"] != corev1.ScheduleAnyway {
		t.Errorf("spread %v, want nodes (DoNotSchedule) and zones (ScheduleAnyway)", keys)
	}
}
