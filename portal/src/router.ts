import { createRouter, createWebHashHistory, type RouterHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'
import ServiceView from './views/ServiceView.vue'
import TrackView from './views/TrackView.vue'
import NotFoundView from './views/NotFoundView.vue'

// Hash history: the built files are plain objects in a bucket, with no rewrite rules needed.
export function makeRouter(history: RouterHistory = createWebHashHistory()) {
  return createRouter({
    history,
    routes: [
      { path: '/', name: 'home', component: HomeView },
      { path: '/services/:code', name: 'service', component: ServiceView, props: true },
      { path: '/track', name: 'track', component: TrackView },
      { path: '/:rest(.*)*', name: 'not-found', component: NotFoundView },
    ],
  })
}
