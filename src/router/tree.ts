// The route tree of one API: built once from its resource paths, read-only afterwards.
//
//   /                     node(root)
//   ├─ pets               static child  (exact segment, case-sensitive)
//   │  └─ {petId}         param child   (one segment)
//   └─ {proxy+}           greedy child  (one or more segments, always a leaf)
//
// API Gateway's precedence at every level: a static segment beats {param}, which beats
// {proxy+}; the matcher backtracks to the next kind when a deeper level misses, or when the
// resource it reaches has neither the request's method nor ANY.

/** Methods a resource can carry, ANY last: slot index = METHOD_SLOTS.indexOf(method). */
export const METHOD_SLOTS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'ANY'] as const
export const ANY_SLOT = METHOD_SLOTS.length - 1
export const NO_ROUTE = -1

/** Slot of an upper-case method name, or -1 for one API Gateway does not route. */
export function methodSlot(method: string): number {
  switch (method) {
    case 'GET': return 0
    case 'POST': return 1
    case 'PUT': return 2
    case 'DELETE': return 3
    case 'PATCH': return 4
    case 'HEAD': return 5
    case 'OPTIONS': return 6
    case 'ANY': return 7
    default: return -1
  }
}

export class RouteNode {
  /** Static children by exact segment text; null when none. */
  staticChildren: Map<string, RouteNode> | null = null
  /** The {param} child and its parameter name. */
  paramChild: RouteNode | null = null
  paramName: string | null = null
  /** The {param+} child (a leaf) and its parameter name. */
  greedyChild: RouteNode | null = null
  greedyName: string | null = null
  /** Route index per METHOD_SLOTS entry, NO_ROUTE where the resource lacks that method. */
  readonly routes: Int32Array = new Int32Array(METHOD_SLOTS.length).fill(NO_ROUTE)
  /** Resource path this node stands for ('/pets/{petId}'). */
  resourcePath: string

  constructor(resourcePath: string) {
    this.resourcePath = resourcePath
  }
}

/** Why a route could not be added, or null when it was. */
export type InsertProblem = 'duplicate-method' | 'sibling-variable' | null

/**
 * Adds a route. API Gateway allows one variable child per resource ({id} or {proxy+}),
 * so a second, differently named one is refused, as is a method defined twice.
 */
export function insertRoute(root: RouteNode, resourcePath: string, method: string, routeIndex: number): InsertProblem {
  let node = root
  if (resourcePath !== '/') {
    const segments = resourcePath.slice(1).split('/')
    let prefix = ''
    for (const seg of segments) {
      prefix += '/' + seg
      if (seg.startsWith('{') && seg.endsWith('+}')) {
        if (node.paramChild !== null || (node.greedyChild !== null && node.greedyName !== seg.slice(1, -2))) return 'sibling-variable'
        if (node.greedyChild === null) {
          node.greedyChild = new RouteNode(prefix)
          node.greedyName = seg.slice(1, -2)
        }
        node = node.greedyChild
      } else if (seg.startsWith('{') && seg.endsWith('}')) {
        if (node.greedyChild !== null || (node.paramChild !== null && node.paramName !== seg.slice(1, -1))) return 'sibling-variable'
        if (node.paramChild === null) {
          node.paramChild = new RouteNode(prefix)
          node.paramName = seg.slice(1, -1)
        }
        node = node.paramChild
      } else {
        if (node.staticChildren === null) node.staticChildren = new Map()
        let child = node.staticChildren.get(seg)
        if (child === undefined) {
          child = new RouteNode(prefix)
          node.staticChildren.set(seg, child)
        }
        node = child
      }
    }
  }
  const slot = methodSlot(method)
  if (node.routes[slot] !== NO_ROUTE) return 'duplicate-method'
  node.routes[slot] = routeIndex
  return null
}

/** Freezes a finished tree so that no request can change it. */
export function freezeTree(node: RouteNode): void {
  if (node.staticChildren !== null) for (const c of node.staticChildren.values()) freezeTree(c)
  if (node.paramChild !== null) freezeTree(node.paramChild)
  if (node.greedyChild !== null) freezeTree(node.greedyChild)
  Object.freeze(node)
}
