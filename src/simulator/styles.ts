/**
 * The simulator's Video Agent style catalogue (`GET /v3/video-agents/styles`): a small fixed list that
 * covers every tag HeyGen documents, so tag filtering and pagination have something to work on. The
 * names and ids are the simulator's own; HeyGen's real catalogue is curated and changes over time.
 */
import type { STYLE_TAGS } from '../contract/heygen';

export interface SimStyle {
  id: string;
  name: string;
  /** Null for a style that adapts to the requested orientation (the field is optional in the spec). */
  aspectRatio: string | null;
  tags: (typeof STYLE_TAGS)[number][];
}

export const STYLES: readonly SimStyle[] = [
  { id: 'style_sim_film_noir', name: 'Film Noir', aspectRatio: '16:9', tags: ['cinematic'] },
  { id: 'style_sim_epic_trailer', name: 'Epic Trailer', aspectRatio: '16:9', tags: ['cinematic', 'pop-culture'] },
  { id: 'style_sim_crt_terminal', name: 'CRT Terminal', aspectRatio: '16:9', tags: ['retro-tech'] },
  { id: 'style_sim_pixel_arcade', name: 'Pixel Arcade', aspectRatio: null, tags: ['retro-tech', 'pop-culture'] },
  { id: 'style_sim_pop_art', name: 'Pop Art Portraits', aspectRatio: '9:16', tags: ['iconic-artist', 'pop-culture'] },
  { id: 'style_sim_watercolour', name: 'Watercolour Sketchbook', aspectRatio: null, tags: ['iconic-artist', 'handmade'] },
  { id: 'style_sim_paper_cutout', name: 'Paper Cut-Out', aspectRatio: '16:9', tags: ['handmade'] },
  { id: 'style_sim_risograph', name: 'Risograph Zine', aspectRatio: '9:16', tags: ['print', 'handmade'] },
  { id: 'style_sim_broadsheet', name: 'Broadsheet Front Page', aspectRatio: '16:9', tags: ['print'] },
];

export function findStyle(id: string): SimStyle | undefined {
  return STYLES.find((style) => style.id === id);
}
