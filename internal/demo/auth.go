package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Password is the password of every demo user.
const Password = "demo"

// tokenTTL is how long a login token stays valid.
const tokenTTL = 24 * time.Hour

// authenticator issues and checks HMAC-signed bearer tokens. The key is
// random per process, so tokens die with the server and nothing is stored.
type authenticator struct {
	key []byte
	now func() time.Time
}

func newAuthenticator() (*authenticator, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("demo: token key: %w", err)
	}
	return &authenticator{key: key, now: time.Now}, nil
}

// issue returns a token "<payload>.<mac>" where payload is base64url of
// "<user id>:<expiry unix>".
func (a *authenticator) issue(userID int64) string {
	payload := strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(a.now().Add(tokenTTL).Unix(), 10)
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return p + "." + base64.RawURLEncoding.EncodeToString(a.mac(p))
}

func (a *authenticator) mac(p string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(p))
	return m.Sum(nil)
}

var errBadToken = errors.New("invalid or expired token (POST /api/login for a new one)")

// check returns the user id of a valid token.
func (a *authenticator) check(token string) (int64, error) {
	if len(token) > 256 {
		return 0, errBadToken
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return 0, errBadToken
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, a.mac(p)) {
		return 0, errBadToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return 0, errBadToken
	}
	id, exp, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 0, errBadToken
	}
	uid, ok1 := parseCanonical(id)
	expiry, ok2 := parseCanonical(exp)
	if !ok1 || !ok2 || a.now().Unix() >= expiry {
		return 0, errBadToken
	}
	return uid, nil
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, _ url.Values) {
	// The body is read as JSON whatever its Content-Type says: `curl -d`
	// labels it form-urlencoded, and a demo should not trip people up.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBody))
	dec.DisallowUnknownFields()
	var req loginRequest
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, http.StatusRequestEntityTooLarge, "login body larger than %d bytes", maxLoginBody)
			return
		}
		h.fail(w, http.StatusBadRequest, "login body: want {\"user\": \"user1\", \"password\": \"demo\"}: %v", err)
		return
	}
	if dec.More() {
		h.fail(w, http.StatusBadRequest, "login body: one JSON object only")
		return
	}
	if req.User == "" || req.Password == "" {
		h.fail(w, http.StatusBadRequest, "login body: user and password are required")
		return
	}
	var id int64
	err := h.db.reader.QueryRowContext(r.Context(), "SELECT id FROM users WHERE name = ?", req.User).Scan(&id)
	pwOK := subtle.ConstantTimeCompare([]byte(req.Password), []byte(Password)) == 1
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !pwOK):
		w.Header().Set("WWW-Authenticate", `Bearer realm="tailgate-demo"`)
		h.fail(w, http.StatusUnauthorized, "unknown user or wrong password (users are user1…user%d, password %q)", h.db.opts.Users, Password)
	case err != nil:
		h.dbFail(w, r, err)
	default:
		h.reply(w, http.StatusOK, map[string]any{"token": h.auth.issue(id), "expires_in": int(tokenTTL.Seconds())})
	}
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request, _ url.Values) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tailgate-demo"`)
		h.fail(w, http.StatusUnauthorized, "missing Authorization: Bearer TOKEN (POST /api/login for one)")
		return
	}
	uid, err := h.auth.check(strings.TrimSpace(token))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tailgate-demo", error="invalid_token"`)
		h.fail(w, http.StatusUnauthorized, "%v", err)
		return
	}
	var name, email string
	var posts int64
	err = h.db.reader.QueryRowContext(r.Context(),
		"SELECT name, email, (SELECT count(*) FROM posts WHERE user_id = users.id) FROM users WHERE id = ?", uid).
		Scan(&name, &email, &posts)
	if errors.Is(err, sql.ErrNoRows) {
		h.fail(w, http.StatusUnauthorized, "%v", errBadToken)
		return
	}
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	h.reply(w, http.StatusOK, map[string]any{"id": uid, "name": name, "email": email, "posts": posts})
}
