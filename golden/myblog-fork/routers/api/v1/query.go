package v1

// The query parameters every list (and, for include, every read) accepts:
//
//	?page=2&page_size=10          the page (see parsePage)
//	?sort=-created_at,title       order by these columns, - for descending; id breaks ties
//	?include=article,author       load the records these references point to, in the item
//	?published=true               equality on a field: bool, number, time, string, reference
//	?article_id=5                 a reference is filtered by its column
//	?views_gte=10&views_lt=100    ranges on numbers and times: _gt, _gte, _lt, _lte
//	?created_at_gte=2024-01-01T00:00:00Z
//
// A parameter the list does not know, a column it cannot sort on and a value of the wrong
// type are answered 400 naming the parameter. Columns come from each resource's listSpec,
// never from the request, and values are always bound as query arguments.

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// filterKind is the type of a filterable column: it decides how values parse and whether
// ranges apply.
type filterKind int

const (
	filterString filterKind = iota
	filterBool
	filterInt
	filterUint
	filterFloat
	filterTime
)

// rangeOp is a range filter's suffix and the comparison it makes.
type rangeOp struct {
	suffix string
	expr   func(col clause.Column, v any) clause.Expression
}

// rangeOps are the range filters, in the order messages list them.
func rangeOps() []rangeOp {
	return []rangeOp{
		{"_gt", func(col clause.Column, v any) clause.Expression { return clause.Gt{Column: col, Value: v} }},
		{"_gte", func(col clause.Column, v any) clause.Expression { return clause.Gte{Column: col, Value: v} }},
		{"_lt", func(col clause.Column, v any) clause.Expression { return clause.Lt{Column: col, Value: v} }},
		{"_lte", func(col clause.Column, v any) clause.Expression { return clause.Lte{Column: col, Value: v} }},
	}
}

// listSpec is what the list of one resource may be filtered, sorted and expanded by.
type listSpec struct {
	// filters maps a column to its kind.
	filters map[string]filterKind
	// sorts are the columns ?sort accepts.
	sorts []string
	// includes maps an ?include name to the relation gorm preloads.
	includes map[string]string
}

// listQuery is a validated list request: clauses to add to the query.
type listQuery struct {
	page     pagination
	where    []clause.Expression
	order    []clause.OrderByColumn
	preloads []string
}

// filter adds the filters to db: the count of a list uses them alone.
func (q listQuery) filter(db *gorm.DB) *gorm.DB {
	for _, w := range q.where {
		db = db.Where(w)
	}
	return db
}

// scope adds the order, the page and the preloads to db.
func (q listQuery) scope(db *gorm.DB) *gorm.DB {
	for _, o := range q.order {
		db = db.Order(o)
	}
	for _, p := range q.preloads {
		db = db.Preload(p)
	}
	return db.Offset(q.page.offset()).Limit(q.page.size)
}

// listParams are the parameters of a list beside its filters.
func listParams() []string { return []string{"page", "page_size", "sort", "include"} }

// parseListQuery reads a list request's parameters against spec. On a bad one it answers
// 400, naming every offending parameter, and returns false.
func parseListQuery(c *gin.Context, spec listSpec) (listQuery, bool) {
	page, ok := parsePage(c)
	if !ok {
		return listQuery{}, false
	}
	q := listQuery{page: page}
	fields := map[string]string{}
	query := c.Request.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if slices.Contains(listParams(), name) {
			continue
		}
		value := query.Get(name)
		column, expr, ok := spec.filterFor(name)
		if !ok {
			fields[name] = fmt.Sprintf("is not a parameter of this list; filters: %s", strings.Join(spec.filterNames(), ", "))
			continue
		}
		v, err := parseFilterValue(spec.filters[column], value)
		if err != nil {
			fields[name] = err.Error()
			continue
		}
		q.where = append(q.where, expr(clause.Column{Name: column}, v))
	}
	order, msg := parseSort(c.Query("sort"), spec.sorts)
	if msg != "" {
		fields["sort"] = msg
	}
	q.order = order
	preloads, msg := parseInclude(c, spec.includes)
	if msg != "" {
		fields["include"] = msg
	}
	q.preloads = preloads
	if len(fields) > 0 {
		respondError(c, http.StatusBadRequest, "invalid query parameters", fields)
		return listQuery{}, false
	}
	return q, true
}

// filterFor finds the column and comparison of a filter parameter: views (equality) or
// views_gte (a range, for numbers and times).
func (s listSpec) filterFor(name string) (string, func(clause.Column, any) clause.Expression, bool) {
	if _, ok := s.filters[name]; ok {
		return name, func(col clause.Column, v any) clause.Expression { return clause.Eq{Column: col, Value: v} }, true
	}
	for _, op := range rangeOps() {
		column, found := strings.CutSuffix(name, op.suffix)
		if kind, ok := s.filters[column]; found && ok && kind.ranged() {
			return column, op.expr, true
		}
	}
	return "", nil, false
}

// ranged reports whether a kind of column has range filters.
func (k filterKind) ranged() bool {
	return k != filterString && k != filterBool
}

// filterNames lists the filter parameters of s, for messages.
func (s listSpec) filterNames() []string {
	var names []string
	for _, column := range slices.Sorted(maps.Keys(s.filters)) {
		names = append(names, column)
		if s.filters[column].ranged() {
			for _, op := range rangeOps() {
				names = append(names, column+op.suffix)
			}
		}
	}
	return names
}

// parseFilterValue parses a filter's value as its column's kind.
func parseFilterValue(kind filterKind, s string) (any, error) {
	switch kind {
	case filterBool:
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			return nil, fmt.Errorf("must be true or false")
		}
		return b, nil
	case filterInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a whole number")
		}
		return n, nil
	case filterUint:
		n, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return nil, fmt.Errorf("must be a whole number from 0 up")
		}
		return n, nil
	case filterFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number")
		}
		return f, nil
	case filterTime:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("must be a time in RFC 3339 format, e.g. 2006-01-02T15:04:05Z")
		}
		return t.UTC(), nil
	}
	if len(s) > MaxFilterLength {
		return nil, fmt.Errorf("must be at most %d characters", MaxFilterLength)
	}
	return s, nil
}

// MaxFilterLength bounds the value of a string filter.
const MaxFilterLength = 255

// parseSort reads ?sort=-created_at,title: columns of allowed, each at most once, a leading
// - for descending. id is added last to break ties, so pages never overlap. It returns the
// order, or a message for the 400.
func parseSort(s string, allowed []string) ([]clause.OrderByColumn, string) {
	var order []clause.OrderByColumn
	seen := map[string]bool{}
	if s != "" {
		for part := range strings.SplitSeq(s, ",") {
			column, desc := strings.CutPrefix(strings.TrimSpace(part), "-")
			if !slices.Contains(allowed, column) {
				return nil, fmt.Sprintf("cannot sort by %q; sort by %s, each optionally preceded by - for descending", column, strings.Join(allowed, ", "))
			}
			if seen[column] {
				return nil, fmt.Sprintf("%s is given twice; give each column once", column)
			}
			seen[column] = true
			order = append(order, clause.OrderByColumn{Column: clause.Column{Name: column}, Desc: desc})
		}
	}
	if !seen["id"] {
		order = append(order, clause.OrderByColumn{Column: clause.Column{Name: "id"}})
	}
	return order, ""
}

// parseInclude reads ?include=article,author: the relations to preload. It returns them, or
// a message for the 400.
func parseInclude(c *gin.Context, includes map[string]string) ([]string, string) {
	s := c.Query("include")
	if s == "" {
		return nil, ""
	}
	var preloads []string
	for part := range strings.SplitSeq(s, ",") {
		name := strings.TrimSpace(part)
		relation, ok := includes[name]
		if !ok {
			if len(includes) == 0 {
				return nil, "this resource references nothing to include"
			}
			return nil, fmt.Sprintf("cannot include %q; include %s", name, strings.Join(slices.Sorted(maps.Keys(includes)), ", "))
		}
		if !slices.Contains(preloads, relation) {
			preloads = append(preloads, relation)
		}
	}
	return preloads, ""
}

// parseItemQuery reads the parameters of a request for one item: only include. On a bad one
// it answers 400 naming it, and returns false.
func parseItemQuery(c *gin.Context, spec listSpec) ([]string, bool) {
	fields := map[string]string{}
	for name := range c.Request.URL.Query() {
		if name != "include" {
			fields[name] = "is not a parameter of this request; use include"
		}
	}
	preloads, msg := parseInclude(c, spec.includes)
	if msg != "" {
		fields["include"] = msg
	}
	if len(fields) > 0 {
		respondError(c, http.StatusBadRequest, "invalid query parameters", fields)
		return nil, false
	}
	return preloads, true
}
