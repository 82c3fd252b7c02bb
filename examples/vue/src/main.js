// Render functions keep the example free of a compiler plugin; single-file components work the same.
import { init } from 'spoor';
import { createApp, h } from 'vue';
import { createRouter, createWebHistory, RouterLink, RouterView, useRoute } from 'vue-router';

// Once, before the app mounts; every route change after it is a visit (Spoor sees pushState).
const tracker = init({
  endpoint: import.meta.env.VITE_SPOOR_ENDPOINT,
  project: import.meta.env.VITE_SPOOR_PROJECT,
  // Automated browsers are not tracked unless asked: only the end-to-end test sets this.
  allowAutomation: import.meta.env.VITE_SPOOR_ALLOW_AUTOMATION === 'true',
});

const page = (title) => ({ render: () => h('h1', title) });
const Item = {
  setup() {
    const route = useRoute();
    return () => [
      h('h1', `Item ${route.params.id}`),
      h(
        'button',
        { type: 'button', onClick: () => tracker.track('item-liked', { id: route.params.id }) },
        'Like',
      ),
    ];
  },
};

const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', component: page('Home') },
    { path: '/about', component: page('About') },
    { path: '/items/:id', component: Item },
  ],
});

const App = {
  render: () => [
    h('nav', [
      h(RouterLink, { to: '/' }, () => 'Home'),
      ' · ',
      h(RouterLink, { to: '/about' }, () => 'About'),
      ' · ',
      h(RouterLink, { to: '/items/42' }, () => 'Item 42'),
    ]),
    h('main', [h(RouterView)]),
  ],
};

createApp(App).use(router).mount('#app');
