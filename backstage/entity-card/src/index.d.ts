import type { BackstagePlugin } from '@backstage/core-plugin-api'
import type { JSX } from 'react'

export type EntityOfCard = { kind: string; namespace?: string; name: string }
export type CardPages = { catalog?: string; docs?: string }
export type CardReport = {
  days: { date: string; pageviews: number }[]
  catalog: { visitors: number; pageviews: number }
  docs: { visitors: number; pageviews: number }
  created: { visitors: number; events: number }
}

/** The plugin `edge-analytics`. */
export declare const edgeAnalyticsPlugin: BackstagePlugin
/** The card "Analytics": views of the entity's catalog and docs pages and its create events over 30 days. */
export declare const EntityAnalyticsCard: (props: { title?: string }) => JSX.Element
export declare function pagePattern(prefix: string, entity: EntityOfCard): string
export declare function cardQueries(what: {
  site: string
  entity: EntityOfCard
  pages?: CardPages
  createEvent?: string
}): Record<'daily' | 'catalog' | 'docs' | 'created', object>
export declare function cardFrom(answers: Record<'daily' | 'catalog' | 'docs' | 'created', unknown>): CardReport
export declare function dashboardLink(
  dashboardUrl: string,
  what: { site: string; entity: EntityOfCard; pages?: CardPages }
): string
