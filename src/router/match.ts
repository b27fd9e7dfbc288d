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
 * tree. A resource that lacks both the method and ANY does not match, and the walk goes on
 * to the next candidate by precedence: OPTIONS /test, where /test has only POST, reaches a
 * sibling /{proxy+} with OPTIONS (AWS-validated: LocalStack test_apigateway_common.py
 * TestApigatewayRouting::test_proxy_routing_with_hardcoded_resource_sibling). Returns null
 * when nothing matches: API Gateway answers MISSING_AUTHENTICATION_TOKEN.
 */
export function matchRoute(root: RouteNode, method: string, path: string): RouteMatch | null {
  const slot = methodSlot(method)
  // One trailing slash is ignored, as API Gateway does ('/pets/' is '/pets').
  let end = path.length
  if (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end--
  const params: string[] = []
  const node = end <= 1 ? (routeOf(root, slot) !== NO_ROUTE ? root : null) : walk(root, path, 1, end, params, slot)
  if (node === null) return null
  return new RouteMatch(routeOf(node, slot), node.resourcePath, params)
}

/** The node's route for the method slot, else its ANY route, else NO_ROUTE. */
function routeOf(node: RouteNode, slot: number): number {
  const route = slot === -1 ? NO_ROUTE : node.routes[slot]!
  return route !== NO_ROUTE ? route : node.routes[ANY_SLOT]!
}

/** Depth-first walk from `start` (first char of a segment); backtracks on a miss. */
function walk(node: RouteNode, path: string, start: number, end: number, params: string[], slot: number): RouteNode | null {
  let slash = path.indexOf('/', start)
  if (slash === -1 || slash > end) slash = end
  const last = slash >= end
  if (node.staticChildren !== null) {
    const child = node.staticChildren.get(path.slice(start, slash))
    if (child !== undefined) {
      const found = last ? (routeOf(child, slot) !== NO_ROUTE ? child : null) : walk(child, path, slash + 1, end, params, slot)
      if (found !== null) return found
    }
  }
  if (node.paramChild !== null && slash > start) {
    const mark = params.length
    params.push(node.paramName!, decodeSegment(path.slice(start, slash)))
    const child = node.paramChild
    const found = last ? (routeOf(child, slot) !== NO_ROUTE ? child : null) : walk(child, path, slash + 1, end, params, slot)
    if (found !== null) return found
    params.length = mark
  }
  if (node.greedyChild !== null && end > start && routeOf(node.greedyChild, slot) !== NO_ROUTE) {
    // {proxy+} takes the rest of the path, one or more segments.
    params.push(node.greedyName!, decodeSegment(path.slice(start, end)))
    return node.greedyChild
  }
  return null
}
