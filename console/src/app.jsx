import { createContext } from "preact";
import { useContext } from "preact/hooks";

/** What every page needs: the API client, the signed-in session, and the chosen project. */
export const Ctx = createContext(null);
export const useCtx = () => useContext(Ctx);
