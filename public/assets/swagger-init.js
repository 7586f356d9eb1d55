// Starts Swagger UI on /docs. A same-origin file rather than an inline script, so the CSP needs no 'unsafe-inline'.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
  });
});
