package generator

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

func TestAddResourceWithEventsRecordsItAndServesTheStreams(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	b, err := os.ReadFile(filepath.Join(root, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Resources[0].Events || m.Resources[1].Events {
		t.Fatalf("recorded events %v, %v; want note only", m.Resources[0].Events, m.Resources[1].Events)
	}
	if got := addCommand(m.Resources[0]); got != "gingen add resource note title:string --events" {
		t.Errorf("add command %q, want it to end in --events", got)
	}
	note, err := os.ReadFile(filepath.Join(root, "routers/api/v1/note.go"))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := os.ReadFile(filepath.Join(root, "routers/api/v1/tag.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`g.GET("/events", feed.ServeSSE)`, `models.RecordEvent(tx, "notes", models.EventCreated`, `models.EventUpdated`, `models.EventDeleted`} {
		if !strings.Contains(string(note), want) {
			t.Errorf("note.go lacks %s", want)
		}
	}
	if strings.Contains(string(tag), "RecordEvent") || strings.Contains(string(tag), "/events") {
		t.Error("tag.go, added without --events, records or serves events")
	}
	// A render from the manifest (gingen upgrade, new --force) keeps the events.
	files, _, err := RenderProject(m, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == "routers/api/v1/note.go" && string(f.Body) != string(note) {
			t.Error("routers/api/v1/note.go rendered from gingen.yaml differs from what add resource --events wrote")
		}
	}
	doc, err := os.ReadFile(filepath.Join(root, OpenAPIPath))
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/notes/events", "/api/v1/notes/events/ws"} {
		item, ok := parsed.Paths[p]
		if !ok {
			t.Errorf("the document lacks %s", p)
			continue
		}
		if _, ok := item["head"]; ok {
			t.Errorf("%s declares a HEAD, which a stream does not serve", p)
		}
		if get, _ := item["get"].(map[string]any); get[StreamExtension] != true {
			t.Errorf("GET %s is not marked %s: the contract test would wait on it forever", p, StreamExtension)
		}
	}
	if _, ok := parsed.Paths["/api/v1/tags/events"]; ok {
		t.Error("the document declares events of tags, added without --events")
	}
	sse := parsed.Paths["/api/v1/notes/events"]["get"].(map[string]any)["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)
	if _, ok := sse["text/event-stream"]; !ok {
		t.Errorf("GET /api/v1/notes/events answers %v, want text/event-stream", slices.Collect(maps.Keys(sse)))
	}
}

// A project pays for events only once a resource has them: the first resource added with
// --events brings the outbox (a migration numbered after the project's own), the streams and
// the websocket module; a later one brings nothing more; destroying the last one takes the
// code and the module away and leaves the project's files as they were before, except the
// outbox table's migration, which stays (a database may have run it) with a note saying so.
func TestEventsMachineryComesWithTheFirstEventsResourceAndOnlyThen(t *testing.T) {
	for _, db := range Databases() {
		t.Run(db, func(t *testing.T) {
			root := newTestProjectOn(t, db)
			addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
			plain := snapshot(t, root)
			for p := range plain {
				if strings.Contains(p, "outbox") || strings.Contains(p, "events") {
					t.Errorf("a project without events has %s", p)
				}
			}
			if strings.Contains(plain["go.mod"], "coder/websocket") || strings.Contains(plain["go.sum"], "coder/websocket") {
				t.Error("a project without events requires the websocket module")
			}

			plan := addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
			withEvents := snapshot(t, root)
			outbox := "db/migrations/00003_create_outbox_events.sql"
			for _, p := range []string{outbox, "models/outbox.go", "routers/api/v1/events.go", "routers/api/v1/events_test.go"} {
				if _, ok := withEvents[p]; !ok {
					t.Errorf("after the first add resource --events: no %s", p)
				}
			}
			if _, ok := withEvents["db/migrations/00002_create_notes.sql"]; !ok {
				t.Error("the resource's own migration is not numbered before the outbox's")
			}
			for _, p := range []string{"go.mod", "go.sum"} {
				if !strings.Contains(withEvents[p], "github.com/coder/websocket v1.8.15") {
					t.Errorf("%s lacks the websocket module", p)
				}
			}
			if !strings.Contains(withEvents["models/models.go"], "&OutboxEvent{},") {
				t.Error("models.All lacks the outbox")
			}
			if !strings.Contains(strings.Join(plan.Notes, "\n"), outbox) {
				t.Errorf("notes %q do not name the outbox's migration", plan.Notes)
			}
			// The project as gingen.yaml records it renders to what add resource wrote.
			m, err := ParseManifest([]byte(readFile(t, root, ManifestName)))
			if err != nil {
				t.Fatal(err)
			}
			files, _, err := RenderProject(m, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if got, ok := withEvents[f.Path]; f.Path != ManifestName && (!ok || !strings.HasSuffix(got, "\n"+string(f.Body))) {
					t.Errorf("%s rendered from gingen.yaml differs from what add resource --events wrote", f.Path)
				}
			}

			addResource(t, root, ResourceOptions{Name: "memo", Fields: []string{"body:text"}, Events: true})
			if n := strings.Count(readFile(t, root, "models/models.go"), "&OutboxEvent{},"); n != 1 {
				t.Errorf("after a second resource with events, models.All lists the outbox %d times", n)
			}
			for _, p := range []string{"go.mod", "go.sum", outbox, "routers/api/v1/events.go"} {
				if got := readFile(t, root, p); !strings.HasSuffix(withEvents[p], "\n"+got) {
					t.Errorf("a second resource with events changed %s", p)
				}
			}
			destroyResource(t, root, DestroyOptions{Name: "memo", NeverCommitted: untracked})
			plan = destroyResource(t, root, DestroyOptions{Name: "note", NeverCommitted: untracked})
			after := snapshot(t, root)
			for p, body := range plain {
				if p == ManifestName {
					continue
				}
				if after[p] != body {
					t.Errorf("after destroying the last resource with events, %s differs from the project before events", p)
				}
			}
			if _, ok := after[outbox]; !ok {
				t.Errorf("destroy removed %s, which a database may have run", outbox)
			}
			for _, p := range []string{"models/outbox.go", "routers/api/v1/events.go", "routers/api/v1/events_test.go"} {
				if _, ok := after[p]; ok {
					t.Errorf("%s stays after the last resource with events is gone", p)
				}
			}
			if notes := strings.Join(plan.Notes, "\n"); !strings.Contains(notes, "outbox_events table keeps") || !strings.Contains(notes, outbox+" stays") {
				t.Errorf("notes %q do not say that the outbox table and its migration stay", notes)
			}
			// Events again: the outbox's migration is the one already there, not a new one.
			addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
			again := snapshot(t, root)
			n := 0
			for p := range again {
				if strings.HasSuffix(p, "_create_outbox_events.sql") {
					n++
				}
			}
			if n != 1 || again[outbox] != withEvents[outbox] {
				t.Errorf("events again: %d outbox migrations, want the one of before", n)
			}
		})
	}
}

func TestEventsAreRefusedForAnOwnedResource(t *testing.T) {
	root := newTestProjectWith(t, Options{Name: "myblog", Port: DefaultPort, Auth: AuthJWT})
	before := snapshot(t, root)
	_, err := PlanAddResource(os.DirFS(root), ResourceOptions{Name: "note", Fields: []string{"owner:references:user:owner", "title:string"}, Events: true}, templates.FS())
	if err == nil || !strings.Contains(err.Error(), "every user's notes") || !errors.As(err, new(*InputError)) {
		t.Fatalf("add resource --events with an owner = %v, want an input error naming the leak", err)
	}
	sameTree(t, before, snapshot(t, root)) // a refused add resource changes nothing
}

// A gingen.yaml edited by hand to give an owned resource events is refused, naming the key.
func TestAManifestWithEventsOnAnOwnedResourceIsRefused(t *testing.T) {
	opts := Options{Name: "myblog", Port: DefaultPort, Auth: AuthJWT}
	opts.Normalize()
	files, err := PlanProject(opts, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanAddResource(memFS(files), ResourceOptions{Name: "note", Fields: []string{"owner:references:user:owner", "title:string"}}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	files = applyInMemory(files, plan)
	var manifest []byte
	for _, f := range files {
		if f.Path == ManifestName {
			manifest = f.Body
		}
	}
	if _, err := ParseManifest(manifest); err != nil {
		t.Fatalf("the manifest of an owned resource: %v", err)
	}
	edited := strings.Replace(string(manifest), "    plural: notes\n", "    plural: notes\n    events: true\n", 1)
	if edited == string(manifest) {
		t.Fatal("found no plural: notes line to edit")
	}
	if _, err := ParseManifest([]byte(edited)); err == nil || !strings.Contains(err.Error(), "resources[0].events") {
		t.Fatalf("ParseManifest of an owned resource with events = %v, want an error naming resources[0].events", err)
	}
}

// The first events resource merges its lines into a models.go the user edited, and gingen
// upgrade of an events project (here to another strategy) keeps the events machinery.
func TestEventsMergeIntoEditedFilesAndSurviveAnUpgrade(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	models := filepath.Join(root, "models", "models.go")
	b, err := os.ReadFile(models)
	if err != nil {
		t.Fatal(err)
	}
	const mine = "\n// Kept: a line of the user's own.\n"
	if err := os.WriteFile(models, append(b, mine...), 0o644); err != nil {
		t.Fatal(err)
	}
	addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
	got := readFile(t, root, "models/models.go")
	if !strings.Contains(got, mine) || !strings.Contains(got, "&OutboxEvent{},") || !strings.Contains(got, "&Note{},") {
		t.Fatalf("models.go after add resource --events lacks the user's line, the outbox or the note:\n%s", got)
	}

	// The upgrade in a project of its own: an edited models.go is a conflict for gingen
	// upgrade, with events or without.
	root = newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
	plan := upgrade(t, root, UpgradeOptions{Strategy: StrategySupervisor}, templates.FS())
	if len(plan.conflicts) > 0 {
		t.Errorf("upgrade conflicts: %v", plan.conflicts)
	}
	for _, p := range []string{"routers/api/v1/events.go", "models/outbox.go", "db/migrations/00002_create_outbox_events.sql"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("after upgrade: %v", err)
		}
	}
	if !strings.Contains(readFile(t, root, "go.mod"), "github.com/coder/websocket") {
		t.Error("after upgrade go.mod lacks the websocket module")
	}
	if got := readFile(t, root, "models/models.go"); !strings.Contains(got, "&OutboxEvent{},") {
		t.Errorf("models.go after upgrade:\n%s", got)
	}
}
