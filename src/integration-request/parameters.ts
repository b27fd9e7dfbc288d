// Method request values for parameter mappings (requestParameters): path, query string,
// header, stage variable, context or static sources, resolved per request.
import { SourceKind } from './compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { authorizerValue } from '../method-request/authorization/authorizer-outcome.js'

/** The value of a method request source for a parameter mapping; null when absent. */
export function resolveSource(ctx: RequestContext, source: SourceKind, name: string): string | null {
  switch (source) {
    case SourceKind.Static:
      return name
    case SourceKind.MethodPath: {
      const p = ctx.match!.params
      for (let i = 0; i < p.length; i += 2) if (p[i] === name) return p[i + 1]!
      return null
    }
    case SourceKind.MethodQuery:
    case SourceKind.MethodMultiQuery: {
      const values = ctx.queryParameters().get(name)
      if (values === undefined) return null
      return source === SourceKind.MethodQuery ? values[values.length - 1]! : values.join(',')
    }
    case SourceKind.MethodHeader:
      return ctx.header(name)
    case SourceKind.MethodMultiHeader: {
      const h = ctx.request.headers
      const out: string[] = []
      for (let i = 0; i < h.length; i += 2) if (h[i] === name) out.push(h[i + 1]!)
      return out.length === 0 ? null : out.join(',')
    }
    case SourceKind.StageVariable:
      return ctx.stage!.variables[name] ?? null
    case SourceKind.Context:
      if (name === 'requestId') return ctx.requestId
      if (name === 'extendedRequestId') return ctx.extendedRequestId
      if (name === 'stage') return ctx.stage!.name
      if (name === 'httpMethod') return ctx.request.method
      if (name === 'resourcePath') return ctx.method!.resourcePath
      if (name === 'resourceId') return ctx.method!.resourceId
      if (name === 'apiId') return ctx.api!.id
      if (name === 'identity.sourceIp') return ctx.request.remoteAddress
      if (name === 'identity.userAgent') return ctx.header('user-agent')
      if (name === 'requestTimeEpoch') return String(ctx.request.receivedAt)
      // $context.identity.* filled by authentication (AWS_IAM).
      if (name.startsWith('identity.')) {
        const id = ctx.identity as Readonly<Record<string, string | null>> | null
        return id === null ? null : id[name.slice('identity.'.length)] ?? null
      }
      // context.authorizer.principalId, context.authorizer.{key}, context.authorizer.claims.{name}
      if (name.startsWith('authorizer.')) return ctx.authorizer === null ? null : authorizerValue(ctx.authorizer, name.slice(11))
      return null
    case SourceKind.MethodBody:
      return null
  }
  return null
}
