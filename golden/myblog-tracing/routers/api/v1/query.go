package v1

// The query parameters every list (and, for include, every read) accepts:
//
//	?page=2&page_size=10          the page (see parsePage)
//	?sort=-created_at,title       order by these columns, - for descending; id breaks ties
//	?include=article,author       load the records these references point to, in the item
//	?published=true               equality on a field: bool, number, time, string, reference
//	?article_id=5                 a reference is filtered by its column
//	?id=2,3,5                     any of these values (SQL IN), at most MaxInValues of them;
//	                              in a string's values a comma is written \, and a backslash \\
//	?published_at=null            the rows where a nullable field (an optional time) is NULL;
//	                              on a string field null is the four letters, as any other value
//	?views_gte=10&views_lt=100    ranges on numbers and times: _gt, _gte, _lt, _lte
//	?created_at_gte=2024-01-01T00:00:00Z
//	?q=gin                        text search: the rows where a searchable field (the search
//	                              modifier) contains the text, case-insensitively (see search)
//
// A parameter the list does not know, one given twice, a column it cannot sort on and a value
// of the wrong type are answered 400 naming the parameter. Columns come from each resource's
// listSpec, never from the request, and values are always bound as query arguments.

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// nullable are the filter columns that may hold NULL: ?column=null selects those rows.
	nullable []string
	// search are the columns ?q searches; none: the list has no ?q.
	search []string
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

// MaxInValues bounds the values of one ?column=a,b filter.
const MaxInValues = 100

// refuseRepeated answers 400, naming them, when query parameters are given more than once
// (?views=11&views=12): no value of the two is more right than the other. It returns false
// then. query is the request's parameters, parsed once by the caller.
func refuseRepeated(c *gin.Context, query url.Values) bool {
	fields := map[string]string{}
	for name, values := range query {
		if len(values) > 1 {
			fields[name] = fmt.Sprintf("is given %d times; give it once (several values of a filter: %s=a,b)", len(values), name)
		}
	}
	if len(fields) > 0 {
		respondError(c, http.StatusBadRequest, "invalid query parameters", fields)
		return false
	}
	return true
}

// parseListQuery reads a list request's parameters against spec. On a bad one it answers
// 400, naming every offending parameter, and returns false.
func parseListQuery(c *gin.Context, spec listSpec) (listQuery, bool) {
	query := c.Request.URL.Query()
	if !refuseRepeated(c, query) {
		return listQuery{}, false
	}
	page, ok := parsePage(c)
	if !ok {
		return listQuery{}, false
	}
	q := listQuery{page: page}
	fields := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if slices.Contains(listParams(), name) {
			continue
		}
		value := query.Get(name)
		if name == "q" && len(spec.search) > 0 {
			if utf8.RuneCountInString(value) > MaxFilterLength {
				fields[name] = fmt.Sprintf("must be at most %d characters", MaxFilterLength)
			} else if value != "" {
				q.where = append(q.where, search(spec.search, value))
			}
			continue
		}
		column, expr, ok := spec.filterFor(name)
		if !ok {
			fields[name] = fmt.Sprintf("is not a parameter of this list; filters: %s", strings.Join(spec.filterNames(), ", "))
			continue
		}
		var (
			w   clause.Expression
			err error
		)
		if expr == nil {
			w, err = spec.equality(column, value)
		} else {
			var v any
			if v, err = parseFilterValue(spec.filters[column], value); err == nil {
				w = expr(clause.Column{Name: column}, v)
			}
		}
		if err != nil {
			fields[name] = err.Error()
			continue
		}
		q.where = append(q.where, w)
	}
	order, msg := parseSort(query.Get("sort"), spec.sorts)
	if msg != "" {
		fields["sort"] = msg
	}
	q.order = order
	preloads, msg := parseInclude(query.Get("include"), spec.includes)
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

// filterFor finds the column and comparison of a filter parameter: views (equality, a nil
// comparison: see equality) or views_gte (a range, for numbers and times).
func (s listSpec) filterFor(name string) (string, func(clause.Column, any) clause.Expression, bool) {
	if _, ok := s.filters[name]; ok {
		return name, nil, true
	}
	for _, op := range rangeOps() {
		column, found := strings.CutSuffix(name, op.suffix)
		if kind, ok := s.filters[column]; found && ok && kind.ranged() {
			return column, op.expr, true
		}
	}
	return "", nil, false
}

// equality is the condition of ?column=value: equal to the value, to any of a,b (IN), and
// IS NULL for a value null of a nullable column (?published_at=null,2024-01-01T00:00:00Z:
// either).
func (s listSpec) equality(column, value string) (clause.Expression, error) {
	col := clause.Column{Name: column}
	kind := s.filters[column]
	parts := splitValues(kind, value)
	if len(parts) > MaxInValues {
		return nil, fmt.Errorf("has %d values; give at most %d", len(parts), MaxInValues)
	}
	nullable := slices.Contains(s.nullable, column)
	var values []any
	isNull := false
	for i, part := range parts {
		if part == "null" && nullable {
			isNull = true
			continue
		}
		v, err := parseFilterValue(kind, part)
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("value %d of %d: %w", i+1, len(parts), err)
			}
			return nil, err
		}
		values = append(values, v)
	}
	switch {
	case isNull && len(values) == 0:
		return clause.Eq{Column: col, Value: nil}, nil
	case isNull:
		// gorm writes a []any argument as (?, ?, ...).
		return clause.Expr{SQL: "(? IN ? OR ? IS NULL)", Vars: []any{col, values, col}}, nil
	case len(values) == 1:
		return clause.Eq{Column: col, Value: values[0]}, nil
	}
	return clause.IN{Column: col, Values: values}, nil
}

// splitValues splits the value of an equality filter at its commas. In a string's value a
// comma that belongs to the value is written \, and a backslash \\; other kinds of values
// hold neither.
func splitValues(kind filterKind, s string) []string {
	if kind != filterString {
		return strings.Split(s, ",")
	}
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == ',' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		case s[i] == ',':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(parts, b.String())
}

// search is the condition of ?q=text: one of columns contains text, compared in lower case.
// It is LIKE, portable to SQLite, PostgreSQL and MySQL alike, with the text's % and _ (and
// the escape character, !) escaped so that they match themselves; it reads every row of the
// list's filter (no index serves a LIKE '%...%'). Lower case is Unicode-aware on PostgreSQL
// and MySQL, ASCII-only on SQLite.
func search(columns []string, text string) clause.Expression {
	pattern := "%" + likeEscaper().Replace(strings.ToLower(text)) + "%"
	conds := make([]string, len(columns))
	vars := make([]any, 0, 2*len(columns))
	for i, column := range columns {
		conds[i] = "LOWER(?) LIKE ? ESCAPE '!'"
		vars = append(vars, clause.Column{Name: column}, pattern)
	}
	return clause.Expr{SQL: "(" + strings.Join(conds, " OR ") + ")", Vars: vars}
}

// likeEscaper escapes LIKE's wildcards and its escape character, !.
func likeEscaper() *strings.Replacer {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
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
	if len(s.search) > 0 {
		names = append(names, "q")
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
	if utf8.RuneCountInString(s) > MaxFilterLength {
		return nil, fmt.Errorf("must be at most %d characters", MaxFilterLength)
	}
	return s, nil
}

// MaxFilterLength bounds the value of a string filter.
const MaxFilterLength = 255

// parseSort reads ?sort=-created_at,title: columns of allowed, a leading - for descending; a
// column given again (title,-title) changes nothing, as its first mention already ordered the
// rows. id is added last to break ties, so pages never overlap. It returns the order, or a
// message for the 400.
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
				continue
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

// parseInclude reads ?include=article,author, s being its value: the relations to preload.
// It returns them, or a message for the 400.
func parseInclude(s string, includes map[string]string) ([]string, string) {
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
	if c.Request.URL.RawQuery == "" {
		return nil, true // the usual read: nothing to parse
	}
	query := c.Request.URL.Query()
	if !refuseRepeated(c, query) {
		return nil, false
	}
	fields := map[string]string{}
	for name := range query {
		if name != "include" {
			fields[name] = "is not a parameter of this request; use include"
		}
	}
	preloads, msg := parseInclude(query.Get("include"), spec.includes)
	if msg != "" {
		fields["include"] = msg
	}
	if len(fields) > 0 {
		respondError(c, http.StatusBadRequest, "invalid query parameters", fields)
		return nil, false
	}
	return preloads, true
}
