package admin

import (
	"net/http"

	"github.com/healthjob/healthjob/internal/admin/ui"
)

// routes mounts every page of the admin. All but the login form and the
// static files need a session; the records keep the paths Django's admin
// gives them.
func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET "+ui.StaticPrefix+"{hash}/{name}", ui.Static)
	m.HandleFunc("GET "+loginPath, h.loginForm)
	m.HandleFunc("POST "+loginPath, h.login)
	m.HandleFunc("POST /admin/logout/", h.logout)

	m.HandleFunc("GET /admin/{$}", h.authed(redirect(recordsPath)))
	m.HandleFunc("GET /admin/django_health_check_job/{$}", h.authed(redirect(recordsPath)))
	m.HandleFunc("GET /admin/dashboard/{$}", h.authed(h.dashboard))

	m.HandleFunc("GET "+recordsPath+"{$}", h.authed(h.list))
	m.HandleFunc("POST "+recordsPath+"{$}", h.authed(h.action))
	m.HandleFunc("GET "+recordsPath+"export.csv", h.authed(h.export("csv")))
	m.HandleFunc("GET "+recordsPath+"export.json", h.authed(h.export("json")))
	m.HandleFunc("GET "+recordsPath+"{id}/{$}", h.authed(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, recordsPath+r.PathValue("id")+"/change/", http.StatusFound)
	}))
	m.HandleFunc("GET "+recordsPath+"{id}/change/{$}", h.authed(h.change))
	m.HandleFunc("GET "+recordsPath+"{id}/history/{$}", h.authed(h.history))
	m.HandleFunc("GET "+recordsPath+"{id}/delete/{$}", h.authed(h.deleteOne))
	m.HandleFunc("POST "+recordsPath+"{id}/delete/{$}", h.authed(h.deleteOne))

	// Anything else: the login form first, then not found.
	m.HandleFunc(Root, h.authed(func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusNotFound, "Not found", "There is no such page in the admin.")
	}))
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}
