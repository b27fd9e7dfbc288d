// Per-request route matching: walks the tree by segment with API Gateway's precedence.
import { ANY_SLOT, NO_ROUTE, methodSlot, type RouteNode } from './tree.js'

/** The outcome of a successful match. */
export class RouteMatch {
  constructor(
    /** Index of the route (the compiled method) in its stage's method table. */
    readonly routeIndex: number,
    /** Resource path of the matched resource ('/pets/{petId}'). */
    readonly resourcePath: string,
    /** Path parameter names and URL-decoded values, in path order: [name0, value0, …]. */
    readonly params: string[],
  ) {}
}

/** Decodes a path segment; a malformed escape leaves the text as received. */
export function decodeSegment(raw: string): string {
  if (raw.indexOf('%') === -1) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/**
 * Matches `path` (still percent-encoded, starting with '/', no query string) against the
 * tree. Returns null when no resource matches, or the resource lacks both the method
 * and ANY: API Gateway answers both with MISSING_AUTHENTICATION_TOKEN.
 */
export function matchRoute(root: RouteNode, method: string, path: string): RouteMatch | null {
  // One trailing slash is ignored, as API Gateway does ('/pets/' is '/pets').
  let end = path.length
  if (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end--
  const params: string[] = []
  const node = end <= 1 ? root : walk(root, path, 1, end, params)
  if (node === null) return null
  const slot = methodSlot(method)
  let route = slot === -1 ? NO_ROUTE : node.routes[slot]!
  if (route === NO_ROUTE) route = node.routes[ANY_SLOT]!
  if (route === NO_ROUTE) return null
  return new RouteMatch(route, node.resourcePath, params)
}

/** Depth-first walk from `start` (first char of a segment); backtracks on a miss. */
function walk(node: RouteNode, path: string, start: number, end: number, params: string[]): RouteNode | null {
  let slash = path.indexOf('/', start)
  if (slash === -1 || slash > end) slash = end
  const last = slash >= end
  if (node.staticChildren !== null) {
    const child = node.staticChildren.get(path.slice(start, slash))
    if (child !== undefined) {
      const found = last ? (child.hasMethods ? child : null) : walk(child, path, slash + 1, end, params)
      if (found !== null) return found
    }
  }
  if (node.paramChild !== null && slash > start) {
    const mark = params.length
    params.push(node.paramName!, decodeSegment(path.slice(start, slash)))
    const child = node.paramChild
    const found = last ? (child.hasMethods ? child : null) : walk(child, path, slash + 1, end, params)
    if (found !== null) return found
    params.length = mark
  }
  if (node.greedyChild !== null && end > start) {
    // {proxy+} takes the rest of the path, one or more segments.
    params.push(node.greedyName!, decodeSegment(path.slice(start, end)))
    return node.greedyChild
  }
  return null
}
