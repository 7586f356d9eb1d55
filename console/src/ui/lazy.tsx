import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Loading } from "./loading";

type Loader = () => Promise<{ default: ComponentType }>;

const loaded = new Map<Loader, ComponentType>();

/**
 * A page loaded on first use, so the sign-in page's first load carries only the shell and itself (the size budget
 * in docs/console.md). While the module loads the page area says so.
 */
export function lazyPage(loader: Loader): ComponentType {
  return function LazyPage() {
    const [Component, setComponent] = useState<ComponentType | undefined>(() => loaded.get(loader));
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (Component) return;
      let live = true;
      loader()
        .then((module) => {
          loaded.set(loader, module.default);
          if (live) setComponent(() => module.default);
        })
        .catch(() => {
          if (live) setFailed(true);
        });
      return () => {
        live = false;
      };
    }, [Component]);
    if (Component) return <Component />;
    if (failed)
      return (
        <div class="banner banner-error" role="alert">
          <p>
            This page could not be loaded (the server may be unreachable, or a new version was deployed). Reload to try
            again.
          </p>
        </div>
      );
    return <Loading>Loading…</Loading>;
  };
}
