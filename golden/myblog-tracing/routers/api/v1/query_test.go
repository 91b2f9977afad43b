package v1

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

// gadget is a table of these tests only, with a column of every filter kind.
type gadget struct {
	ID        uint
	CreatedAt time.Time
	Name      string `gorm:"size:64"`
	Active    bool
	Stock     int
	Serial    uint
	Price     float64
	MadeAt    time.Time
	SoldAt    *time.Time
	Note      string
	OwnerID   uint
	Owner     *owner
}

func gadgetSpec() listSpec {
	return listSpec{
		filters: map[string]filterKind{
			"id": filterUint, "name": filterString, "active": filterBool, "stock": filterInt,
			"serial": filterUint, "price": filterFloat, "made_at": filterTime, "owner_id": filterUint,
			"sold_at": filterTime, "note": filterString,
		},
		sorts:    []string{"id", "name", "stock", "price"},
		includes: map[string]string{"owner": "Owner"},
		nullable: []string{"sold_at"},
		search:   []string{"name", "note"},
	}
}

// listGadgets serves GET /gadgets with the list query of gadgetSpec, and GET /gadgets/:id
// with its item query.
func listGadgets(t *testing.T, db *gorm.DB) http.Handler {
	t.Helper()
	r := gin.New()
	r.GET("/gadgets", func(c *gin.Context) {
		q, ok := parseListQuery(c, gadgetSpec())
		if !ok {
			return
		}
		var total int64
		if err := q.filter(db.Model(&gadget{})).Count(&total).Error; err != nil {
			respondInternal(c, err)
			return
		}
		items := []gadget{}
		if err := q.scope(q.filter(db)).Find(&items).Error; err != nil {
			respondInternal(c, err)
			return
		}
		setListHeaders(c, q.page, total)
		c.JSON(http.StatusOK, ListResponse[gadget]{Items: items, Total: total, Page: q.page.page, PageSize: q.page.size})
	})
	r.GET("/gadgets/:id", func(c *gin.Context) {
		preloads, ok := parseItemQuery(c, gadgetSpec())
		if !ok {
			return
		}
		var g gadget
		tx := db
		for _, p := range preloads {
			tx = tx.Preload(p)
		}
		if err := tx.First(&g, c.Param("id")).Error; err != nil {
			respondInternal(c, err)
			return
		}
		c.JSON(http.StatusOK, g)
	})
	return r
}

func TestListQueriesFilterSortAndInclude(t *testing.T) {
	db := newTestDB(t)
	if err := db.AutoMigrate(&owner{}, &gadget{}); err != nil {
		t.Fatal(err)
	}
	ann := owner{Name: "ann"}
	if err := db.Create(&ann).Error; err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, time.March, 1, 0, 0, 0, 0, time.UTC)
	// The notes hold LIKE's wildcards, its escape character and a comma.
	notes := []string{"50% off", "a_b", "100, percent", "x!y"}
	for n := 1; n <= 4; n++ {
		g := gadget{Name: fmt.Sprintf("g%d", n), Active: n%2 == 0, Stock: n * 10, Serial: uint(100 + n), Price: float64(n) + 0.25,
			MadeAt: base.Add(time.Duration(n) * time.Hour), OwnerID: ann.ID, Note: notes[n-1]}
		if n%2 == 0 {
			soldAt := base.Add(time.Duration(n) * 24 * time.Hour)
			g.SoldAt = &soldAt
		}
		if err := db.Create(&g).Error; err != nil {
			t.Fatal(err)
		}
	}
	h := listGadgets(t, db)
	for _, tc := range []struct {
		query string
		want  string // the names, in order
	}{
		{"", "[g1 g2 g3 g4]"},
		{"sort=-id", "[g4 g3 g2 g1]"},
		{"sort=-stock,name", "[g4 g3 g2 g1]"},
		{"active=true", "[g2 g4]"},
		{"active=false&sort=-name", "[g3 g1]"},
		{"name=g3", "[g3]"},
		{"stock_gte=20&stock_lt=40", "[g2 g3]"},
		{"stock=-5", "[]"},
		{"serial_gt=102", "[g3 g4]"},
		{"price_lte=2.25", "[g1 g2]"},
		{"made_at_gt=2024-03-01T02:00:00Z", "[g3 g4]"},
		{"made_at=2024-03-01T01:00:00Z", "[g1]"},
		{fmt.Sprintf("owner_id=%d&page=2&page_size=3", ann.ID), "[g4]"},
		{"name=g1'%20OR%20'1'='1", "[]"},
		{"sort=-stock,stock,name,-name", "[g4 g3 g2 g1]"},
		{"id=1,3", "[g1 g3]"},
		{"id=3", "[g3]"},
		{"stock=10,40,99", "[g1 g4]"},
		{"name=g1,g4,g9", "[g1 g4]"},
		{"active=true,false", "[g1 g2 g3 g4]"},
		{"made_at=2024-03-01T01:00:00Z,2024-03-01T03:00:00Z", "[g1 g3]"},
		{"note=100%5C,%20percent", "[g3]"},
		{"note=100,%20percent", "[]"},
		{"note=null", "[]"},
		{"sold_at=null", "[g1 g3]"},
		{"sold_at=null,2024-03-03T00:00:00Z", "[g1 g2 g3]"},
		{"sold_at_gt=2024-03-04T00:00:00Z", "[g4]"},
		{"q=G2", "[g2]"},
		{"q=g", "[g1 g2 g3 g4]"},
		{"q=", "[g1 g2 g3 g4]"},
		{"q=%25", "[g1]"},
		{"q=0%25", "[g1]"},
		{"q=_", "[g2]"},
		{"q=a_b", "[g2]"},
		{"q=!", "[g4]"},
		{"q=x!y", "[g4]"},
		{"q=,%20per", "[g3]"},
		{"q=%5C", "[]"},
		{"q='%20OR%201=1%20--", "[]"},
		{"q=off&active=true", "[]"},
	} {
		t.Run("?"+tc.query, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/gadgets?"+tc.query, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d %s, want 200", rec.Code, rec.Body)
			}
			names := []string{}
			for _, g := range decodeBody[ListResponse[gadget]](t, rec).Items {
				names = append(names, g.Name)
			}
			if got := fmt.Sprint(names); got != tc.want {
				t.Errorf("names = %s, want %s", got, tc.want)
			}
		})
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/gadgets?include=owner&page_size=1", nil))
	if got := decodeBody[ListResponse[gadget]](t, rec); len(got.Items) != 1 || got.Items[0].Owner == nil || got.Items[0].Owner.Name != "ann" {
		t.Errorf("?include=owner = %s, want the owner in the item", rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/gadgets/1?include=owner", nil))
	if got := decodeBody[gadget](t, rec); got.Owner == nil || got.Owner.Name != "ann" {
		t.Errorf("/gadgets/1?include=owner = %s, want the owner in the item", rec.Body)
	}
}

func TestListQueriesRefuseBadParametersNamingThem(t *testing.T) {
	db := newTestDB(t)
	if err := db.AutoMigrate(&owner{}, &gadget{}); err != nil {
		t.Fatal(err)
	}
	h := listGadgets(t, db)
	for _, tc := range []struct {
		target string
		bad    []string // the parameters the 400 must name
	}{
		{"/gadgets?colour=red", []string{"colour"}},
		{"/gadgets?active=yes", []string{"active"}},
		{"/gadgets?active=1", []string{"active"}},
		{"/gadgets?stock=many", []string{"stock"}},
		{"/gadgets?stock_gte=1.5", []string{"stock_gte"}},
		{"/gadgets?serial=-1", []string{"serial"}},
		{"/gadgets?price_lt=NaN", []string{"price_lt"}},
		{"/gadgets?made_at_gte=yesterday", []string{"made_at_gte"}},
		{"/gadgets?name_gte=a", []string{"name_gte"}},
		{"/gadgets?active_lt=true", []string{"active_lt"}},
		{"/gadgets?sort=colour", []string{"sort"}},
		{"/gadgets?stock=10&stock=20", []string{"stock"}},
		{"/gadgets?page=1&page=2&name=a&name=b", []string{"page", "name"}},
		{"/gadgets?q=a&q=b", []string{"q"}},
		{"/gadgets/1?include=owner&include=owner", []string{"include"}},
		{"/gadgets?id=1,x", []string{"id"}},
		{"/gadgets?id=", []string{"id"}},
		{"/gadgets?stock=1,,2", []string{"stock"}},
		{"/gadgets?made_at=null", []string{"made_at"}},
		{"/gadgets?sold_at_gt=null", []string{"sold_at_gt"}},
		{"/gadgets?stock_gte=1,2", []string{"stock_gte"}},
		{"/gadgets?serial=" + strings.Repeat("1,", MaxInValues) + "1", []string{"serial"}},
		{"/gadgets?q=" + strings.Repeat("é", MaxFilterLength+1), []string{"q"}},
		{"/gadgets?page=2147483648", []string{"page"}},
		{"/gadgets?sort=made_at", []string{"sort"}},
		{"/gadgets?sort=name%3Bdrop%20table%20gadgets", []string{"sort"}},
		{"/gadgets?include=maker", []string{"include"}},
		{"/gadgets?page=0&colour=red&sort=x", []string{"page"}},
		{"/gadgets?colour=red&sort=x&include=y", []string{"colour", "sort", "include"}},
		{"/gadgets/1?page=2", []string{"page"}},
		{"/gadgets/1?include=maker", []string{"include"}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d %s, want 400", rec.Code, rec.Body)
			}
			body := decodeBody[ErrorResponse](t, rec)
			for _, p := range tc.bad {
				if body.Fields[p] == "" {
					t.Errorf("the 400 %s does not name %s", rec.Body, p)
				}
			}
		})
	}
}

func TestListsAnswerTheTotalAndLinksToTheirPages(t *testing.T) {
	db := newTestDB(t)
	if err := db.AutoMigrate(&owner{}, &gadget{}); err != nil {
		t.Fatal(err)
	}
	h := listGadgets(t, db)
	get := func(t *testing.T, target string) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d %s, want 200", target, rec.Code, rec.Body)
		}
		return rec
	}
	rec := get(t, "/gadgets")
	if got, want := rec.Header().Get("X-Total-Count"), "0"; got != want {
		t.Errorf("empty: X-Total-Count = %q, want %q", got, want)
	}
	if got, want := rec.Header().Get("Link"), `</gadgets?page=1>; rel="first", </gadgets?page=1>; rel="last"`; got != want {
		t.Errorf("empty: Link = %s\nwant %s", got, want)
	}
	bob := owner{Name: "bob"}
	if err := db.Create(&bob).Error; err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		if err := db.Create(&gadget{Name: fmt.Sprintf("g%d", n), Stock: n, OwnerID: bob.ID}).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		query, total, link string
	}{
		{"page_size=2", "5", `</gadgets?page=1&page_size=2>; rel="first", </gadgets?page=2&page_size=2>; rel="next", </gadgets?page=3&page_size=2>; rel="last"`},
		{"page=2&page_size=2&sort=-stock", "5", `</gadgets?page=1&page_size=2&sort=-stock>; rel="first", </gadgets?page=1&page_size=2&sort=-stock>; rel="prev", </gadgets?page=3&page_size=2&sort=-stock>; rel="next", </gadgets?page=3&page_size=2&sort=-stock>; rel="last"`},
		{"page=3&page_size=2", "5", `</gadgets?page=1&page_size=2>; rel="first", </gadgets?page=2&page_size=2>; rel="prev", </gadgets?page=3&page_size=2>; rel="last"`},
		{"page=9&page_size=2", "5", `</gadgets?page=1&page_size=2>; rel="first", </gadgets?page=3&page_size=2>; rel="prev", </gadgets?page=3&page_size=2>; rel="last"`},
		{"stock_gt=3&note=a%20b,c%5C,d", "0", `</gadgets?note=a+b%2Cc%5C%2Cd&page=1&stock_gt=3>; rel="first", </gadgets?note=a+b%2Cc%5C%2Cd&page=1&stock_gt=3>; rel="last"`},
		{"page=2147483647&page_size=100", "5", `</gadgets?page=1&page_size=100>; rel="first", </gadgets?page=1&page_size=100>; rel="prev", </gadgets?page=1&page_size=100>; rel="last"`},
	} {
		t.Run("?"+tc.query, func(t *testing.T) {
			rec := get(t, "/gadgets?"+tc.query)
			if got := rec.Header().Get("X-Total-Count"); got != tc.total {
				t.Errorf("X-Total-Count = %q, want %q", got, tc.total)
			}
			if got := rec.Header().Get("Link"); got != tc.link {
				t.Errorf("Link = %s\nwant %s", got, tc.link)
			}
		})
	}
}

func TestSplitValuesHonoursEscapedCommasInStringsOnly(t *testing.T) {
	for _, tc := range []struct {
		kind filterKind
		in   string
		want string
	}{
		{filterString, `a,b`, `["a" "b"]`},
		{filterString, `a\,b`, `["a,b"]`},
		{filterString, `a\\,b`, `["a\\" "b"]`},
		{filterString, `a\b`, `["a\\b"]`},
		{filterString, `a\`, `["a\\"]`},
		{filterString, ``, `[""]`},
		{filterString, `,`, `["" ""]`},
		{filterInt, `1\,2`, `["1\\" "2"]`},
	} {
		if got := fmt.Sprintf("%q", splitValues(tc.kind, tc.in)); got != tc.want {
			t.Errorf("splitValues(%v, %s) = %s, want %s", tc.kind, tc.in, got, tc.want)
		}
	}
}

func TestParseSortAlwaysEndsWithID(t *testing.T) {
	for s, want := range map[string]string{
		"":            "[id]",
		"-id":         "[-id]",
		"name,-id":    "[name -id]",
		" -name , id": "[-name id]",
		"-name":       "[-name id]",
	} {
		order, msg := parseSort(s, []string{"id", "name"})
		if msg != "" {
			t.Errorf("parseSort(%q): %s", s, msg)
			continue
		}
		var got []string
		for _, o := range order {
			col := o.Column.Name
			if o.Desc {
				col = "-" + col
			}
			got = append(got, col)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("parseSort(%q) = %v, want %s", s, got, want)
		}
	}
}
