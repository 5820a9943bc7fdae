package loadgen

// A scanner for the structured-field Lists (RFC 9651) that the current
// rate-limit draft's RateLimit and RateLimit-Policy headers are: it checks
// the whole syntax, so a malformed field is ignored as the draft asks, and
// hands the quota reader each member's name and its r and q parameters
// without allocating (names are hashed, not kept).

// sfMember is what the quota reader needs of one member of a List.
type sfMember struct {
	// name is the FNV-1a hash of the member's string or token (a quoted
	// "default" and a bare default hash alike: drafts used both); named
	// is false for any other bare item and for an inner list.
	name  uint64
	named bool
	// r and q are the member's r and q parameters, -1 unless the last of
	// each is a non-negative Integer.
	r, q int64
}

// sfBare is one bare item: its name hash when it is a string or a token,
// its value when it is an Integer.
type sfBare struct {
	name    uint64
	named   bool
	integer bool
	n       int64
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// sfList calls each for every member of the List v, in order, and
// reports whether v is a well-formed List; a caller that must ignore a
// malformed field undoes what each did when it is not.
func sfList[T []byte | string](v T, each func(sfMember)) bool {
	i := skipOWS(v, 0)
	if i == len(v) {
		return true
	}
	for {
		m := sfMember{r: -1, q: -1}
		var ok bool
		if v[i] == '(' {
			i, ok = sfInnerList(v, i)
		} else {
			var b sfBare
			i, b, ok = sfBareItem(v, i)
			m.name, m.named = b.name, b.named
		}
		if !ok {
			return false
		}
		if i, ok = sfParams(v, i, &m); !ok {
			return false
		}
		each(m)
		i = skipOWS(v, i)
		if i == len(v) {
			return true
		}
		if v[i] != ',' {
			return false
		}
		if i = skipOWS(v, i+1); i == len(v) {
			return false // a trailing comma
		}
	}
}

// skipOWS skips spaces and tabs from i.
func skipOWS[T []byte | string](v T, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

// sfInnerList skips the inner list that starts at v[i] == '(' and
// returns the index after its closing parenthesis.
func sfInnerList[T []byte | string](v T, i int) (int, bool) {
	i++
	for {
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i == len(v) {
			return i, false
		}
		if v[i] == ')' {
			return i + 1, true
		}
		var ok bool
		if i, _, ok = sfBareItem(v, i); !ok {
			return i, false
		}
		var skip sfMember
		if i, ok = sfParams(v, i, &skip); !ok || i == len(v) || (v[i] != ' ' && v[i] != ')') {
			return i, false
		}
	}
}

// sfParams reads the parameters from v[i] on, noting r and q in m.
func sfParams[T []byte | string](v T, i int, m *sfMember) (int, bool) {
	for i < len(v) && v[i] == ';' {
		i++
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i == len(v) || !(isLCAlpha(v[i]) || v[i] == '*') {
			return i, false
		}
		start := i
		for i < len(v) && (isLCAlpha(v[i]) || isDigit(v[i]) || v[i] == '_' || v[i] == '-' || v[i] == '.' || v[i] == '*') {
			i++
		}
		key := v[start:i]
		val := int64(-1)
		if i < len(v) && v[i] == '=' {
			var b sfBare
			var ok bool
			if i, b, ok = sfBareItem(v, i+1); !ok {
				return i, false
			}
			if b.integer && b.n >= 0 {
				val = b.n
			}
		}
		if len(key) == 1 && key[0] == 'r' {
			m.r = val
		} else if len(key) == 1 && key[0] == 'q' {
			m.q = val
		}
	}
	return i, true
}

// sfBareItem reads the bare item at v[i]: an Integer or Decimal, a
// String, a Token, a Byte Sequence, a Boolean, a Date or a Display
// String.
func sfBareItem[T []byte | string](v T, i int) (int, sfBare, bool) {
	var b sfBare
	if i >= len(v) {
		return i, b, false
	}
	switch c := v[i]; {
	case c == '-' || isDigit(c):
		return sfNumber(v, i)
	case c == '"':
		b.name, b.named = fnvOffset, true
		for i++; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '\\':
				if i++; i == len(v) || (v[i] != '"' && v[i] != '\\') {
					return i, b, false
				}
				c = v[i]
			case c == '"':
				return i + 1, b, true
			case c < 0x20 || c > 0x7e:
				return i, b, false
			}
			b.name = (b.name ^ uint64(c)) * fnvPrime
		}
		return i, b, false
	case isAlpha(c) || c == '*':
		b.name, b.named = fnvOffset, true
		for ; i < len(v) && (isTChar(v[i]) || v[i] == ':' || v[i] == '/'); i++ {
			b.name = (b.name ^ uint64(v[i])) * fnvPrime
		}
		return i, b, true
	case c == ':':
		for i++; i < len(v) && isBase64(v[i]); i++ {
		}
		if i == len(v) || v[i] != ':' {
			return i, b, false
		}
		return i + 1, b, true
	case c == '?':
		if i+1 < len(v) && (v[i+1] == '0' || v[i+1] == '1') {
			return i + 2, b, true
		}
		return i, b, false
	case c == '@':
		i, b, ok := sfNumber(v, i+1)
		return i, sfBare{}, ok && b.integer
	case c == '%':
		return sfDisplayString(v, i)
	}
	return i, b, false
}

// sfNumber reads an Integer (at most 15 digits) or a Decimal (at most 12
// integer and 3 fractional digits) at v[i].
func sfNumber[T []byte | string](v T, i int) (int, sfBare, bool) {
	var b sfBare
	neg := i < len(v) && v[i] == '-'
	if neg {
		i++
	}
	start := i
	for ; i < len(v) && isDigit(v[i]); i++ {
		b.n = b.n*10 + int64(v[i]-'0')
		if i-start >= 15 {
			return i, b, false
		}
	}
	digits := i - start
	if digits == 0 {
		return i, b, false
	}
	if neg {
		b.n = -b.n
	}
	if i == len(v) || v[i] != '.' {
		b.integer = true
		return i, b, true
	}
	if digits > 12 {
		return i, b, false
	}
	i++
	frac := i
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	if n := i - frac; n < 1 || n > 3 {
		return i, b, false
	}
	return i, sfBare{}, true
}

// sfDisplayString skips a Display String (%"...", percent-encoded UTF-8)
// at v[i].
func sfDisplayString[T []byte | string](v T, i int) (int, sfBare, bool) {
	if i+1 >= len(v) || v[i+1] != '"' {
		return i, sfBare{}, false
	}
	for i += 2; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return i + 1, sfBare{}, true
		case c == '%':
			if i+2 >= len(v) || !isLowerHex(v[i+1]) || !isLowerHex(v[i+2]) {
				return i, sfBare{}, false
			}
			i += 2
		case c < 0x20 || c > 0x7e:
			return i, sfBare{}, false
		}
	}
	return i, sfBare{}, false
}

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isLCAlpha(c byte) bool  { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool    { return isLCAlpha(c) || ('A' <= c && c <= 'Z') }
func isLowerHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') }
func isBase64(c byte) bool   { return isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=' }

// isTChar reports whether c is an HTTP token character (RFC 9110).
func isTChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
