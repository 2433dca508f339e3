import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { readSignInSettings } from './api/sign-in-settings';
import { App } from './app';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App signInSettings={readSignInSettings(root)} />
  </StrictMode>,
);
